package dev.cortado.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.CortadoException;
import dev.cortado.generate.constraint.Constraint;
import dev.cortado.generate.constraint.ResponseFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code /v1/chat/completions} request body: {@code messages} ({@code role} + {@code content}, a string or a list
 * of {@code {"type":"text","text":…}} parts) are rendered with the model folder's chat template
 * (tokenizer_config.json) and the reply is generated after the assistant prompt. {@code response_format}
 * ({@code json_object}, {@code json_schema}) becomes {@code constraint} (null for text): structured output.
 * {@code tools}/{@code tool_choice} become {@code tools} (null without tools): see {@link ChatTools}; assistant
 * messages may carry {@code tool_calls} and {@code role: tool} messages a {@code tool_call_id}.
 */
public record ChatRequest(String model, List<Map<String, Object>> messages, SamplingParams params, Constraint constraint,
                          StreamOptions stream, ChatTools tools) {
    public static final String URL = "/v1/chat/completions";

    public ChatRequest {
        messages = List.copyOf(messages);
    }

    public static ChatRequest parse(JsonNode json) {
        return parse(json, true);
    }

    /** When not {@code strict}, unknown fields are ignored (as OpenAI's server does). */
    public static ChatRequest parse(JsonNode json, boolean strict) {
        Body b = new Body(json, strict);
        String model = b.string("model");
        List<Map<String, Object>> messages = messages(b.get("messages"));
        SamplingParams p = SamplingParams.chat(b);
        StreamOptions stream = StreamOptions.parse(b);
        ChatTools tools = ChatTools.parse(b);
        Constraint constraint;
        try {
            constraint = ResponseFormat.constraint(b.get("response_format"));
        } catch (CortadoException e) {
            throw ApiException.param(e.getMessage());
        }
        b.rejectUnknown(URL);
        if (tools != null && constraint != null
                && (tools.choice() == ChatTools.Choice.REQUIRED || tools.choice() == ChatTools.Choice.NAMED))
            throw ApiException.param("response_format and tool_choice '" + tools.choice().name().toLowerCase(java.util.Locale.ROOT)
                    + "' both constrain the reply; drop one of them");
        return new ChatRequest(model, messages, p, constraint, stream, tools);
    }

    private static List<Map<String, Object>> messages(JsonNode n) {
        if (n == null) throw ApiException.param("'messages' is missing; give a list of {\"role\", \"content\"}");
        if (!n.isArray() || n.isEmpty()) throw Body.type("messages", "a non-empty list of {\"role\", \"content\"}", n);
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            JsonNode m = n.get(i);
            if (!m.isObject() || !m.path("role").isTextual())
                throw ApiException.param("messages[" + i + "] needs a string 'role' and a 'content'");
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("role", m.get("role").textValue());
            msg.put("content", content(m.get("content"), i));
            if (m.path("name").isTextual()) msg.put("name", m.get("name").textValue());
            ChatTools.messageFields(m, i, msg);
            out.add(msg);
        }
        return out;
    }

    private static String content(JsonNode c, int i) {
        if (c == null || c.isNull()) return "";
        if (c.isTextual()) return c.textValue();
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual())
                    throw ApiException.param("messages[" + i + "].content: only text parts ({\"type\":\"text\",\"text\":…}) "
                            + "are supported");
                sb.append(part.get("text").textValue());
            }
            return sb.toString();
        }
        throw Body.type("messages[" + i + "].content", "a string or a list of text parts", c);
    }
}
