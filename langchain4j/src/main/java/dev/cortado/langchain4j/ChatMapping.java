package dev.cortado.langchain4j;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.api.ApiJson;
import dev.cortado.api.ChatCompletionResponse;
import dev.cortado.api.Usage;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.internal.JsonSchemaElementUtils;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.json.JsonRawSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.request.json.JsonSchemaElement;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * LangChain4j's chat request → the OpenAI {@code /v1/chat/completions} body that {@code cortado serve} takes, and
 * the {@code chat.completion} back → LangChain4j's {@link ChatResponse}. The body then goes through
 * {@link dev.cortado.api.OpenAiService}: the same checks (each knob named with its range), chat template, tool
 * calling and structured output as the server.
 */
final class ChatMapping {
    private ChatMapping() {}

    /** The request body; {@code modelName} is the loaded model's (a different one in the parameters is an error). */
    static ObjectNode body(ChatRequest request, String modelName) {
        ObjectNode b = ApiJson.MAPPER.createObjectNode();
        b.set("messages", messages(request.messages()));
        ChatRequestParameters p = request.parameters();
        if (p == null) return b;
        if (p.modelName() != null && !p.modelName().equals(modelName))
            throw new CortadoException("modelName '" + p.modelName() + "' is not the loaded model '" + modelName
                    + "'; leave modelName out (the model is the folder given to modelPath) or set it to '" + modelName + "'");
        if (p.temperature() != null) b.put("temperature", p.temperature());
        if (p.topP() != null) b.put("top_p", p.topP());
        if (p.topK() != null) b.put("top_k", p.topK());
        if (p.frequencyPenalty() != null) b.put("frequency_penalty", p.frequencyPenalty());
        if (p.presencePenalty() != null) b.put("presence_penalty", p.presencePenalty());
        if (p.maxOutputTokens() != null) b.put("max_completion_tokens", p.maxOutputTokens());
        if (p.stopSequences() != null && !p.stopSequences().isEmpty()) {
            ArrayNode stop = b.putArray("stop");
            for (String s : p.stopSequences()) stop.add(s);
        }
        if (p instanceof CortadoChatRequestParameters c) {
            if (c.seed() != null) b.put("seed", c.seed());
            if (c.minP() != null) b.put("min_p", c.minP());
            if (c.repetitionPenalty() != null) b.put("repetition_penalty", c.repetitionPenalty());
        }
        if (p.toolSpecifications() != null && !p.toolSpecifications().isEmpty()) {
            ArrayNode tools = b.putArray("tools");
            for (ToolSpecification t : p.toolSpecifications()) tools.add(tool(t));
        }
        if (p.toolChoice() != null) b.put("tool_choice", p.toolChoice().name().toLowerCase(Locale.ROOT));
        ObjectNode format = responseFormat(p.responseFormat());
        if (format != null) b.set("response_format", format);
        return b;
    }

    private static ArrayNode messages(List<ChatMessage> messages) {
        ArrayNode out = ApiJson.MAPPER.createArrayNode();
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            ObjectNode o = out.addObject();
            switch (m) {
                case SystemMessage s -> o.put("role", "system").put("content", s.text());
                case UserMessage u -> {
                    o.put("role", "user").put("content", text(u.contents(), i));
                    if (u.name() != null) o.put("name", u.name());
                }
                case AiMessage a -> {
                    o.put("role", "assistant");
                    if (a.text() != null) o.put("content", a.text());
                    else o.putNull("content");
                    if (a.hasToolExecutionRequests()) {
                        ArrayNode calls = o.putArray("tool_calls");
                        for (ToolExecutionRequest r : a.toolExecutionRequests()) {
                            ObjectNode call = calls.addObject();
                            if (r.id() != null) call.put("id", r.id());
                            call.put("type", "function");
                            call.putObject("function").put("name", r.name())
                                    .put("arguments", r.arguments() == null ? "{}" : r.arguments());
                        }
                    }
                }
                case ToolExecutionResultMessage t -> {
                    o.put("role", "tool").put("content", t.text() == null ? "" : t.text());
                    if (t.id() != null) o.put("tool_call_id", t.id());
                }
                default -> throw new CortadoException("messages[" + i + "] is a " + m.type() + " message, which Cortado's chat "
                        + "models do not take; use system, user, AI and tool-result messages");
            }
        }
        return out;
    }

    private static String text(List<Content> contents, int i) {
        StringBuilder sb = new StringBuilder();
        for (Content c : contents) {
            if (!(c instanceof TextContent t))
                throw new CortadoException("messages[" + i + "] has " + c.type() + " content; Cortado's chat models read text "
                        + "only: send TextContent");
            sb.append(t.text());
        }
        return sb.toString();
    }

    private static ObjectNode tool(ToolSpecification t) {
        ObjectNode tool = ApiJson.MAPPER.createObjectNode().put("type", "function");
        ObjectNode f = tool.putObject("function").put("name", t.name());
        if (t.description() != null) f.put("description", t.description());
        if (t.parameters() != null) {
            // as langchain4j-open-ai writes them; integers kept in Java's int range (see responseFormat)
            Map<String, Object> params = JsonSchemaElementUtils.toMap(t.parameters(), Boolean.TRUE.equals(t.strict()));
            boundIntegers(params);
            f.set("parameters", ApiJson.MAPPER.valueToTree(params));
        }
        return tool;
    }

    private static ObjectNode responseFormat(ResponseFormat format) {
        if (format == null || format.type() == ResponseFormatType.TEXT) return null;
        JsonSchema schema = format.jsonSchema();
        if (schema == null || schema.rootElement() == null)
            return ApiJson.MAPPER.createObjectNode().put("type", "json_object");
        ObjectNode o = ApiJson.MAPPER.createObjectNode().put("type", "json_schema");
        JsonSchemaElement root = schema.rootElement();
        Object tree;
        if (root instanceof JsonRawSchema) tree = JsonSchemaElementUtils.toMap(root); // the caller's own JSON, as given
        else {
            // a schema LangChain4j made (AiServices from a record or POJO): as OpenAI's strict mode writes it, every
            // property present (optional ones nullable), so the reply fills the whole object; integers kept in Java's
            // int range (unbounded, Cortado allows 18 digits, which a Java int field cannot take)
            Map<String, Object> map = JsonSchemaElementUtils.toMap(root, true);
            boundIntegers(map);
            tree = map;
        }
        o.putObject("json_schema").put("name", schema.name() == null ? "response" : schema.name())
                .put("strict", true).set("schema", ApiJson.MAPPER.valueToTree(tree));
        return o;
    }

    /** Adds int32 bounds to every {@code integer} schema in {@code schema} that has none. */
    @SuppressWarnings("unchecked")
    static void boundIntegers(Object schema) {
        if (schema instanceof Map<?, ?> m) {
            Object type = m.get("type");
            boolean integer = "integer".equals(type) || type instanceof Object[] a && List.of(a).contains("integer")
                    || type instanceof List<?> l && l.contains("integer");
            Map<String, Object> map = (Map<String, Object>) m;
            if (integer && !map.containsKey("minimum") && !map.containsKey("exclusiveMinimum")) map.put("minimum", Integer.MIN_VALUE);
            if (integer && !map.containsKey("maximum") && !map.containsKey("exclusiveMaximum")) map.put("maximum", Integer.MAX_VALUE);
            for (Object v : m.values()) boundIntegers(v);
        } else if (schema instanceof List<?> l) {
            for (Object v : l) boundIntegers(v);
        }
    }

    /** The one choice of a chat completion as LangChain4j's response. */
    static ChatResponse response(ChatCompletionResponse r) {
        ChatCompletionResponse.Choice c = r.choices().getFirst();
        return response(r.id(), r.model(), c.message().content(), calls(c.message().toolCalls()), c.finishReason(), r.usage());
    }

    static ChatResponse response(String id, String model, String text, List<ToolExecutionRequest> calls, String finish,
                                 Usage usage) {
        AiMessage.Builder ai = AiMessage.builder().text(text);
        if (!calls.isEmpty()) ai.toolExecutionRequests(calls);
        return ChatResponse.builder().aiMessage(ai.build()).id(id).modelName(model)
                .tokenUsage(usage == null ? null : new TokenUsage(usage.promptTokens(), usage.completionTokens(), usage.totalTokens()))
                .finishReason(finishReason(finish)).build();
    }

    static List<ToolExecutionRequest> calls(List<ChatCompletionResponse.ToolCall> calls) {
        List<ToolExecutionRequest> out = new ArrayList<>();
        if (calls != null)
            for (ChatCompletionResponse.ToolCall t : calls) out.add(request(t.id(), t.function()));
        return out;
    }

    static ToolExecutionRequest request(String id, ChatCompletionResponse.FunctionCall f) {
        return ToolExecutionRequest.builder().id(id).name(f.name()).arguments(f.arguments()).build();
    }

    static FinishReason finishReason(String openAi) {
        if (openAi == null) return null;
        return switch (openAi) {
            case "stop" -> FinishReason.STOP;
            case "length" -> FinishReason.LENGTH;
            case "tool_calls" -> FinishReason.TOOL_EXECUTION;
            default -> FinishReason.OTHER;
        };
    }
}
