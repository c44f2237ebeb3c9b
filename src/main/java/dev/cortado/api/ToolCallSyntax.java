package dev.cortado.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.generate.constraint.Constraint;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a model writes a tool call, read off its chat template (the template shows the model the syntax, and renders
 * earlier calls in it):
 * <ul>
 *   <li><b>hermes</b> (Qwen2.5/Qwen3, Hermes; the template mentions {@code <tool_call>}): each call is
 *       {@code <tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>}, text around the calls is the content;</li>
 *   <li><b>json</b> (any other template that renders {@code tools}): the whole reply is one JSON object
 *       {@code {"name": …, "arguments": {…}}} (or a list of them); the key is {@code parameters} when the template
 *       says {@code "parameters"} and never {@code "arguments"} (Llama 3.1).</li>
 * </ul>
 * Templates with other call syntaxes ({@code [TOOL_CALLS]}, {@code <|python_tag|>}, {@code <function=…>},
 * {@code functools[…]}) are refused by name rather than parsed wrongly.
 */
public record ToolCallSyntax(String name, String prefix, String suffix, String argumentsKey) {
    public static final ToolCallSyntax HERMES = new ToolCallSyntax("hermes", "<tool_call>\n", "\n</tool_call>", "arguments");
    public static final ToolCallSyntax JSON = new ToolCallSyntax("json", "", "", "arguments");
    private static final List<String> UNSUPPORTED = List.of("[TOOL_CALLS]", "<|python_tag|>", "<function=", "functools[",
            "<|tool_call_start|>", "<tool_calls>", "<｜tool▁calls▁begin｜>");
    private static final Pattern HERMES_CALL = Pattern.compile("<tool_call>(.*?)(?:</tool_call>|\\z)", Pattern.DOTALL);

    /** A parsed call: the function's name and its arguments as compact JSON. */
    public record Call(String name, String arguments) {}

    /** A reply split into its content (null when only calls) and its calls (empty when none parsed). */
    public record Parsed(String content, List<Call> calls) {}

    /** The syntax of {@code template}'s model; a one-line error for call syntaxes Cortado does not parse. */
    public static ToolCallSyntax detect(String template) {
        if (template.contains("<tool_call>")) return HERMES;
        for (String marker : UNSUPPORTED)
            if (template.contains(marker))
                throw new ApiException("unsupported_tool_syntax", "this model's chat template writes tool calls with '"
                        + marker + "', which Cortado does not parse (supported: hermes <tool_call>{…}</tool_call> and plain "
                        + "JSON {\"name\",\"arguments\"}); remove 'tools' from the request");
        if (template.contains("\"parameters\"") && !template.contains("\"arguments\""))
            return new ToolCallSyntax("json", "", "", "parameters");
        return JSON;
    }

    /**
     * The constraint for a reply that is exactly one call of one of {@code functions}: the wrapper text around a JSON
     * schema {@code {"name": {"const": …}, "arguments": parameters}} (a {@code oneOf} over the functions when there are
     * several), compiled by the JSON-schema compiler of {@code generate/constraint}.
     */
    public Constraint constraint(List<ChatTools.Function> functions) {
        String schema = schema(functions).toString();
        try {
            return Constraint.jsonSchema(prefix, schema, suffix);
        } catch (CortadoException e) {
            String which = functions.size() == 1 ? "function '" + functions.getFirst().name() + "'" : "tools";
            throw ApiException.param(which + ": its parameters schema cannot be enforced: " + e.getMessage());
        }
    }

    /** The JSON schema of one call (see {@link #constraint}); the functions' $defs are moved to the root. */
    ObjectNode schema(List<ChatTools.Function> functions) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        ObjectNode defs = f.objectNode();
        List<ObjectNode> branches = new ArrayList<>();
        for (int i = 0; i < functions.size(); i++) {
            ChatTools.Function fn = functions.get(i);
            JsonNode params = hoistDefs(fn.parameters().deepCopy(), "f" + i + "_", defs);
            ObjectNode props = f.objectNode();
            props.set("name", f.objectNode().put("const", fn.name()));
            props.set(argumentsKey, params);
            ObjectNode b = f.objectNode().put("type", "object");
            b.set("properties", props);
            b.set("required", f.arrayNode().add("name").add(argumentsKey));
            b.put("additionalProperties", false);
            branches.add(b);
        }
        if (branches.size() == 1) root.setAll(branches.getFirst());
        else {
            ArrayNode one = root.putArray("oneOf");
            branches.forEach(one::add);
        }
        if (!defs.isEmpty()) root.set("$defs", defs);
        return root;
    }

    /** Moves {@code $defs}/{@code definitions} of {@code schema} into {@code defs} under {@code prefix}, rewriting $refs. */
    private static JsonNode hoistDefs(JsonNode schema, String prefix, ObjectNode defs) {
        if (!(schema instanceof ObjectNode o)) return schema;
        for (String key : new String[] {"$defs", "definitions"}) {
            JsonNode d = o.remove(key);
            if (d == null) continue;
            if (!d.isObject()) throw ApiException.param("parameters." + key + " must be an object of schemas");
            for (Iterator<Map.Entry<String, JsonNode>> it = d.fields(); it.hasNext(); ) {
                var e = it.next();
                defs.set(prefix + e.getKey(), e.getValue());
            }
        }
        rewriteRefs(o, prefix);
        for (Iterator<Map.Entry<String, JsonNode>> it = defs.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().startsWith(prefix)) rewriteRefs(e.getValue(), prefix);
        }
        return o;
    }

    private static void rewriteRefs(JsonNode n, String prefix) {
        if (n instanceof ObjectNode o) {
            JsonNode ref = o.get("$ref");
            if (ref != null && ref.isTextual()) {
                String r = ref.textValue();
                if (r.startsWith("#/$defs/") && !r.startsWith("#/$defs/" + prefix))
                    o.put("$ref", "#/$defs/" + prefix + r.substring("#/$defs/".length()));
                else if (r.startsWith("#/definitions/")) o.put("$ref", "#/$defs/" + prefix + r.substring("#/definitions/".length()));
            }
            for (Iterator<JsonNode> it = o.elements(); it.hasNext(); ) rewriteRefs(it.next(), prefix);
        } else if (n instanceof ArrayNode a) {
            for (JsonNode e : a) rewriteRefs(e, prefix);
        }
    }

    /**
     * Splits a reply into content and calls to the functions named in {@code names}. Text that does not parse as a
     * call (bad JSON, an unknown function, arguments that are not an object) stays in the content.
     */
    public Parsed parse(String text, Set<String> names) {
        List<Call> calls = new ArrayList<>();
        if (prefix.isEmpty()) {
            String t = text.strip();
            if (!(t.startsWith("{") || t.startsWith("["))) return new Parsed(text, calls);
            JsonNode n = read(t);
            List<JsonNode> items = new ArrayList<>();
            if (n != null && n.isArray()) n.forEach(items::add);
            else if (n != null) items.add(n);
            for (JsonNode item : items) {
                Call c = call(item, names);
                if (c == null) return new Parsed(text, List.of());
                calls.add(c);
            }
            return calls.isEmpty() ? new Parsed(text, calls) : new Parsed(null, calls);
        }
        StringBuilder content = new StringBuilder();
        Matcher m = HERMES_CALL.matcher(text);
        int last = 0;
        while (m.find()) {
            Call c = call(read(m.group(1).strip()), names);
            if (c == null) continue;
            content.append(text, last, m.start());
            last = m.end();
            calls.add(c);
        }
        content.append(text, last, text.length());
        String rest = content.toString();
        if (calls.isEmpty()) return new Parsed(text, calls);
        return new Parsed(rest.isBlank() ? null : rest.strip(), calls);
    }

    private Call call(JsonNode n, Set<String> names) {
        if (n == null || !n.isObject() || !n.path("name").isTextual() || !names.contains(n.get("name").textValue()))
            return null;
        JsonNode args = n.has(argumentsKey) ? n.get(argumentsKey) : n.has("arguments") ? n.get("arguments") : n.get("parameters");
        if (args != null && args.isTextual()) args = read(args.textValue());
        if (args == null || !args.isObject()) return null;
        return new Call(n.get("name").textValue(), args.toString());
    }

    private static JsonNode read(String s) {
        try {
            return ApiJson.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(s);
        } catch (IOException e) {
            return null;
        }
    }
}
