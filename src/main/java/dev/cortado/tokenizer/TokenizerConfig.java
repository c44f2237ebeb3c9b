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
            throw new CortadoException(Json.oneLine("cannot read " + tokenizerConfigJson + ": "
                    + e.getMessage().lines().findFirst().orElse("")), e);
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
            throw new CortadoException(Json.oneLine("tokenizer_config.json is not valid JSON: "
                    + e.getMessage().lines().findFirst().orElse("")), e);
        }
    }

    /** A token field: a string or an AddedToken object ({@code {"content": ...}}); null when absent. */
    private String token(String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return null;
        if (n.isTextual()) return n.textValue();
        if (n.isObject() && n.path("content").isTextual()) return n.get("content").textValue();
        throw error("$." + key, Json.oneLine(n.toString()) + " is not allowed: expected a string or {\"content\": \"...\"}");
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

    private CortadoException error(String path, String what) {
        return new CortadoException(Json.oneLine(source + ": " + path + ": " + what));
    }

    /** {@code add_bos_token}: a boolean; false when absent or null. */
    public boolean addBosToken() {
        JsonNode n = root.get("add_bos_token");
        if (n == null || n.isNull()) return false;
        if (!n.isBoolean()) throw error("$.add_bos_token", n + " is not allowed: expected true or false");
        return n.booleanValue();
    }

    /**
     * {@code model_max_length}: a whole number >= 1; null when absent, null, or at least 2^31 (HF writes 1e30 for
     * "no limit").
     */
    public Integer modelMaxLength() {
        JsonNode n = root.get("model_max_length");
        if (n == null || n.isNull()) return null;
        double d = n.isNumber() ? n.doubleValue() : Double.NaN;
        if (!(d >= 1) || d != Math.rint(d))
            throw error("$.model_max_length", Json.oneLine(n.toString())
                    + " is not allowed: expected a whole number >= 1 (or 1e30 for no limit)");
        return d <= Integer.MAX_VALUE ? (int) d : null;
    }

    /** The default chat template, or null. */
    public String chatTemplate() {
        JsonNode n = root.get("chat_template");
        if (n == null || n.isNull()) return null;
        if (n.isTextual()) return n.textValue();
        String expected = "expected a string or a list of {\"name\": \"...\", \"template\": \"...\"} with a 'default' entry";
        if (!n.isArray()) throw error("$.chat_template", "a " + n.getNodeType() + " is not allowed: " + expected);
        String found = null;
        for (int i = 0; i < n.size(); i++) {
            JsonNode t = n.get(i);
            if (!t.isObject() || !t.path("name").isTextual() || !t.path("template").isTextual())
                throw error("$.chat_template[" + i + "]", "not allowed: " + expected);
            if (found == null && t.get("name").textValue().equals("default")) found = t.get("template").textValue();
        }
        if (found == null) throw error("$.chat_template", "no entry is named 'default': " + expected);
        return found;
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
