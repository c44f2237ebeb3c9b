package dev.cortado.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.generate.FinishReason;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.constraint.Constraint;
import dev.cortado.tokenizer.TokenizerConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Tool calling on {@code /v1/chat/completions}: {@code tools} (type {@code function}: name, description, parameters
 * JSON schema), {@code tool_choice} ({@code auto}, {@code none}, {@code required} or
 * {@code {"type":"function","function":{"name":…}}}) and {@code parallel_tool_calls}.
 *
 * <p>The tools are passed to the chat template as {@code tools} (as transformers' {@code apply_chat_template} does); a
 * template that renders the same prompt with and without them has no tool calling, and the request is refused.
 * {@code auto} generates freely and parses the reply in the model's {@link ToolCallSyntax}; {@code required} and a
 * named function constrain the reply to exactly one call (the syntax's wrapper around a JSON schema built from the
 * functions' parameters); {@code none} renders the tools and parses nothing.
 */
public final class ChatTools {
    public enum Choice { AUTO, NONE, REQUIRED, NAMED }

    /** One function: its name and the JSON schema of its arguments (an object schema). */
    public record Function(String name, JsonNode parameters) {}

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final String CHOICES = "'auto', 'none', 'required' or {\"type\":\"function\",\"function\":{\"name\":…}}";

    private final List<Function> functions;
    private final Object templateTools;
    private final Choice choice;
    private final String named;

    private ChatTools(List<Function> functions, Object templateTools, Choice choice, String named) {
        this.functions = List.copyOf(functions);
        this.templateTools = templateTools;
        this.choice = choice;
        this.named = named;
    }

    public Choice choice() {
        return choice;
    }

    public List<Function> functions() {
        return functions;
    }

    /** The tools of a request body, or null when it has none. */
    static ChatTools parse(Body b) {
        JsonNode tools = b.get("tools");
        JsonNode choice = b.get("tool_choice");
        b.bool("parallel_tool_calls"); // accepted; required/named choice generates exactly one call
        if (b.has("functions") || b.has("function_call"))
            throw ApiException.param("'functions'/'function_call' are OpenAI's deprecated names; use 'tools' and 'tool_choice'");
        if (tools != null && tools.isArray() && tools.isEmpty())
            throw ApiException.param("'tools' is an empty list; list at least one function or remove it");
        if (tools == null) {
            if (choice != null && !(choice.isTextual() && (choice.textValue().equals("none") || choice.textValue().equals("auto"))))
                throw ApiException.param("'tool_choice' " + choice + " needs 'tools'; list the functions in 'tools' or remove tool_choice");
            return null;
        }
        if (!tools.isArray()) throw Body.type("tools", "a list of {\"type\":\"function\",\"function\":{…}}", tools);
        List<Function> fns = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < tools.size(); i++) {
            Function f = function(tools.get(i), "tools[" + i + "]");
            if (!names.add(f.name()))
                throw ApiException.param("tools[" + i + "]: function '" + f.name() + "' is listed twice; give each function its own name");
            fns.add(f);
        }
        Choice c;
        String named = null;
        if (choice == null) c = Choice.AUTO;
        else if (choice.isTextual()) {
            c = switch (choice.textValue()) {
                case "auto" -> Choice.AUTO;
                case "none" -> Choice.NONE;
                case "required" -> Choice.REQUIRED;
                default -> throw ApiException.param("'tool_choice' \"" + choice.textValue() + "\" is not one of " + CHOICES);
            };
        } else if (choice.isObject() && "function".equals(choice.path("type").asText())
                && choice.path("function").path("name").isTextual()) {
            c = Choice.NAMED;
            named = choice.get("function").get("name").textValue();
            if (!names.contains(named))
                throw ApiException.param("'tool_choice' names function '" + named + "' but 'tools' has only " + names
                        + "; use one of those names");
        } else throw Body.type("tool_choice", CHOICES, choice);
        return new ChatTools(fns, ApiJson.MAPPER.convertValue(tools, Object.class), c, named);
    }

    private static Function function(JsonNode t, String where) {
        if (!t.isObject() || !"function".equals(t.path("type").asText()) || !t.path("function").isObject())
            throw ApiException.param(where + " must be {\"type\":\"function\",\"function\":{\"name\",\"description\","
                    + "\"parameters\"}} (only function tools are supported)");
        JsonNode f = t.get("function");
        if (!f.path("name").isTextual() || !NAME.matcher(f.get("name").textValue()).matches())
            throw ApiException.param(where + ".function.name must be 1-64 letters, digits, '_' or '-', got " + f.get("name"));
        String name = f.get("name").textValue();
        if (f.has("description") && !f.get("description").isTextual())
            throw Body.type(where + ".function.description", "a string", f.get("description"));
        if (f.has("strict") && !f.get("strict").isBoolean())
            throw Body.type(where + ".function.strict", "true or false", f.get("strict"));
        JsonNode p = f.get("parameters");
        if (p == null || p.isNull()) // OpenAI: no parameters = a function without arguments
            return new Function(name, ApiJson.MAPPER.createObjectNode().put("type", "object")
                    .<ObjectNode>set("properties", ApiJson.MAPPER.createObjectNode()).put("additionalProperties", false));
        if (!p.isObject())
            throw ApiException.param(where + ".function.parameters must be a JSON Schema object, got " + p.getNodeType()
                    .toString().toLowerCase(java.util.Locale.ROOT));
        JsonNode type = p.get("type");
        if (type != null && !(type.isTextual() && type.textValue().equals("object")))
            throw ApiException.param(where + ".function.parameters: \"type\" must be \"object\" (the arguments are a JSON "
                    + "object), got " + type);
        return new Function(name, p);
    }

    /** The functions a {@code required} or named choice lets the model call. */
    List<Function> callable() {
        if (choice != Choice.NAMED) return functions;
        return functions.stream().filter(f -> f.name().equals(named)).toList();
    }

    Set<String> names() {
        Set<String> s = new LinkedHashSet<>();
        for (Function f : functions) s.add(f.name());
        return s;
    }

    /**
     * The prompt: the chat template rendered with {@code tools}. Refused when the template ignores them (it renders
     * the same text without them).
     */
    String prompt(TokenizerConfig cfg, List<Map<String, Object>> messages, String model) {
        String with, without;
        try {
            with = cfg.applyChatTemplate(messages, true, Map.of("tools", templateTools));
            without = cfg.applyChatTemplate(messages, true, null);
        } catch (CortadoException e) {
            throw ApiException.param("messages: the chat template refused them: " + e.getMessage());
        }
        if (with.equals(without))
            throw new ApiException("tools_unsupported", "the chat template of '" + model + "' does not render 'tools' "
                    + "(the model was not set up for tool calling); remove 'tools', or serve a model whose template takes "
                    + "them (e.g. Qwen2.5/Qwen3)");
        return with;
    }

    /** The constraint a {@code required} or named choice puts on the reply; null for auto and none. */
    Constraint constraint(ToolCallSyntax syntax) {
        return choice == Choice.REQUIRED || choice == Choice.NAMED ? syntax.constraint(callable()) : null;
    }

    /** One choice of the response: calls parsed out of a finished reply (not under {@code none}). */
    ChatCompletionResponse.Reply reply(GenerationResult r, ToolCallSyntax syntax) {
        if (choice == Choice.NONE || r.finishReason() == FinishReason.LENGTH) return ChatCompletionResponse.Reply.text(r);
        ToolCallSyntax.Parsed p = syntax.parse(r.text(), names());
        if (p.calls().isEmpty()) return ChatCompletionResponse.Reply.text(r);
        List<ChatCompletionResponse.ToolCall> calls = new ArrayList<>();
        for (ToolCallSyntax.Call c : p.calls())
            calls.add(new ChatCompletionResponse.ToolCall(BatchOutput.newId("call_"), "function",
                    new ChatCompletionResponse.FunctionCall(c.name(), c.arguments())));
        return new ChatCompletionResponse.Reply(p.content(), calls, "tool_calls");
    }

    /**
     * The tool fields of {@code messages[i]} into {@code msg}: an assistant message's {@code tool_calls} (arguments,
     * a JSON string in OpenAI's API, passed to the template as an object, as vLLM does) and a tool message's
     * {@code tool_call_id}.
     */
    static void messageFields(JsonNode m, int i, Map<String, Object> msg) {
        String role = m.get("role").textValue();
        String where = "messages[" + i + "]";
        JsonNode calls = m.get("tool_calls");
        if (calls != null && !calls.isNull()) {
            if (!role.equals("assistant"))
                throw ApiException.param(where + ": only assistant messages carry 'tool_calls', this one is '" + role + "'");
            if (!calls.isArray()) throw Body.type(where + ".tool_calls", "a list of tool calls", calls);
            List<Object> out = new ArrayList<>();
            for (int j = 0; j < calls.size(); j++) out.add(toolCall(calls.get(j), where + ".tool_calls[" + j + "]"));
            msg.put("tool_calls", out);
        }
        if (role.equals("tool")) {
            if (!m.path("tool_call_id").isTextual())
                throw ApiException.param(where + ": a tool message needs 'tool_call_id' (the id of the call it answers)");
            msg.put("tool_call_id", m.get("tool_call_id").textValue());
        }
    }

    private static Map<String, Object> toolCall(JsonNode c, String where) {
        JsonNode f = c.path("function");
        if (!c.isObject() || !f.isObject() || !f.path("name").isTextual())
            throw ApiException.param(where + " must be {\"id\",\"type\":\"function\",\"function\":{\"name\",\"arguments\"}}");
        JsonNode args = f.get("arguments");
        Object parsed;
        if (args == null || args.isNull()) parsed = Map.of();
        else if (args.isObject()) parsed = ApiJson.MAPPER.convertValue(args, Object.class);
        else if (args.isTextual()) {
            try {
                parsed = ApiJson.MAPPER.readValue(args.textValue(), Object.class);
            } catch (IOException e) {
                throw ApiException.param(where + ".function.arguments is not valid JSON; send the arguments of the call "
                        + "as returned (a JSON object in a string)");
            }
        } else throw Body.type(where + ".function.arguments", "a JSON object in a string", args);
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", f.get("name").textValue());
        fn.put("arguments", parsed);
        Map<String, Object> out = new LinkedHashMap<>();
        if (c.path("id").isTextual()) out.put("id", c.get("id").textValue());
        out.put("type", "function");
        out.put("function", fn);
        return out;
    }
}
