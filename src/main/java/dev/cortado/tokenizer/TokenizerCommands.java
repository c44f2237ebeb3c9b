package dev.cortado.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Plain entry points for the CLI ({@code cortado tokenize|detokenize|chat-template}). */
public final class TokenizerCommands {
    private static final ObjectMapper M = new ObjectMapper();

    private TokenizerCommands() {}

    /** {@code {"ids":[...],"tokens":[...]}} for {@code text}; {@code special} adds the post-processor tokens. */
    public static String tokenizeJson(Path tokenizer, String text, boolean special) {
        Encoding e = Tokenizer.fromFile(tokenizer).withPadding(null).withTruncation((Truncation) null)
                .encode(text, special);
        ObjectNode o = M.createObjectNode();
        ArrayNode ids = o.putArray("ids"), toks = o.putArray("tokens");
        for (int i = 0; i < e.length(); i++) {
            ids.add(e.ids()[i]);
            toks.add(e.tokens()[i]);
        }
        return o.toString();
    }

    /** The text of {@code ids} (special tokens kept). */
    public static String detokenize(Path tokenizer, int[] ids) {
        return Tokenizer.fromFile(tokenizer).decode(ids, false);
    }

    /**
     * Renders the chat template of {@code tokenizerConfig} for {@code messagesJson}: either a JSON list of
     * {@code {"role","content"}} messages (generation prompt added) or an object
     * {@code {"messages": [...], "add_generation_prompt": bool, ...other template variables}}.
     */
    public static String chatTemplate(Path tokenizerConfig, Path messagesJson) {
        Object doc;
        try {
            doc = M.readValue(messagesJson.toFile(), Object.class);
        } catch (IOException e) {
            throw new CortadoException(Json.oneLine("cannot read messages " + messagesJson + ": "
                    + e.getMessage().lines().findFirst().orElse("")), e);
        }
        List<Map<String, Object>> messages;
        boolean agp = true;
        Map<String, Object> extra = new java.util.LinkedHashMap<>();
        Object list;
        if (doc instanceof List<?> l) {
            list = l;
        } else if (doc instanceof Map<?, ?> m && m.get("messages") instanceof List<?> l) {
            list = l;
            for (var e : m.entrySet()) {
                String k = String.valueOf(e.getKey());
                if (k.equals("messages")) continue;
                if (k.equals("add_generation_prompt")) {
                    if (!(e.getValue() instanceof Boolean b))
                        throw new CortadoException(Json.oneLine(messagesJson + ": add_generation_prompt: expected true or false, got "
                                + e.getValue()));
                    agp = b;
                } else {
                    extra.put(k, e.getValue());
                }
            }
        } else {
            throw new CortadoException(messagesJson + ": expected a list of messages or {\"messages\": [...]}");
        }
        messages = new java.util.ArrayList<>();
        int i = 0;
        for (Object o : (List<?>) list) {
            if (!(o instanceof Map<?, ?> m))
                throw new CortadoException(Json.oneLine(messagesJson + ": messages[" + i + "]: expected an object like"
                        + " {\"role\": \"user\", \"content\": \"...\"}, got " + (o == null ? "null" : o.getClass().getSimpleName())));
            Map<String, Object> msg = new java.util.LinkedHashMap<>();
            for (var e : m.entrySet()) msg.put(String.valueOf(e.getKey()), e.getValue());
            messages.add(msg);
            i++;
        }
        return TokenizerConfig.load(tokenizerConfig).applyChatTemplate(messages, agp, extra);
    }
}
