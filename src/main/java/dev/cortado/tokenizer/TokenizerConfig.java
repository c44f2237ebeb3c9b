package dev.cortado.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.CortadoException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** tokenizer_config.json: special tokens, {@code add_bos_token}, {@code model_max_length} and the chat template. */
public final class TokenizerConfig {
    private final JsonNode root;
    private final String source;
    private ChatTemplate template;

    private TokenizerConfig(JsonNode root, String source) {
        this.root = root;
        this.source = source;
    }

    public static TokenizerConfig load(Path tokenizerConfigJson) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(tokenizerConfigJson.toFile());
        } catch (IOException e) {
            throw new CortadoException("cannot read " + tokenizerConfigJson + ": " + e.getMessage().lines().findFirst()
                    .orElse(""), e);
        }
        if (root == null || !root.isObject()) throw new CortadoException(tokenizerConfigJson + ": not a JSON object");
        return new TokenizerConfig(root, tokenizerConfigJson.toString());
    }

    public static TokenizerConfig fromJson(String json) {
        try {
            JsonNode root = new ObjectMapper().readTree(json);
            if (root == null || !root.isObject()) throw new CortadoException("tokenizer_config.json: not a JSON object");
            return new TokenizerConfig(root, "tokenizer_config.json");
        } catch (IOException e) {
            throw new CortadoException("tokenizer_config.json is not valid JSON: " + e.getMessage(), e);
        }
    }

    /** A token field: a string or an AddedToken object ({@code {"content": ...}}); null when absent. */
    private String token(String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return null;
        if (n.isTextual()) return n.textValue();
        if (n.isObject() && n.path("content").isTextual()) return n.get("content").textValue();
        throw new CortadoException(source + ": $." + key + ": expected a string or {\"content\": ...}");
    }

    public String bosToken() {
        return token("bos_token");
    }

    public String eosToken() {
        return token("eos_token");
    }

    public String padToken() {
        return token("pad_token");
    }

    public String unkToken() {
        return token("unk_token");
    }

    public boolean addBosToken() {
        return root.path("add_bos_token").asBoolean(false);
    }

    /** null when absent or not a sane int (HF writes 1e30 for "no limit"). */
    public Integer modelMaxLength() {
        JsonNode n = root.get("model_max_length");
        if (n == null || !n.isNumber()) return null;
        double d = n.doubleValue();
        return d >= 1 && d <= Integer.MAX_VALUE ? (int) d : null;
    }

    /** The default chat template, or null. */
    public String chatTemplate() {
        JsonNode n = root.get("chat_template");
        if (n == null || n.isNull()) return null;
        if (n.isTextual()) return n.textValue();
        if (n.isArray()) {
            for (JsonNode t : n) if ("default".equals(t.path("name").asText())) return t.path("template").asText();
        }
        throw new CortadoException(source + ": $.chat_template: expected a string or a list with a 'default' entry");
    }

    /**
     * Renders the chat template. Variables: {@code messages}, {@code add_generation_prompt}, the special tokens
     * ({@code bos_token}, {@code eos_token}, {@code pad_token}, {@code unk_token}), then {@code extra} (e.g.
     * {@code enable_thinking}, {@code tools}), which wins.
     */
    public String applyChatTemplate(List<Map<String, Object>> messages, boolean addGenerationPrompt,
                                    Map<String, Object> extra) {
        String t = chatTemplate();
        if (t == null) throw new CortadoException(source + ": no chat_template");
        synchronized (this) {
            if (template == null) template = new ChatTemplate(t);
        }
        Map<String, Object> vars = new HashMap<>();
        vars.put("bos_token", bosToken());
        vars.put("eos_token", eosToken());
        vars.put("pad_token", padToken());
        vars.put("unk_token", unkToken());
        if (extra != null) vars.putAll(extra);
        return template.render(messages, addGenerationPrompt, vars);
    }
}
