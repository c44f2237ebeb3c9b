package dev.cortado.cli;

import static dev.cortado.cli.BatchCliTest.M;
import static dev.cortado.cli.BatchCliTest.line;
import static dev.cortado.cli.BatchCliTest.model;
import static dev.cortado.cli.BatchCliTest.readOutput;
import static dev.cortado.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tool calling on {@code /v1/chat/completions} in {@code cortado batch}, on stories260K (which knows nothing of tools)
 * with the Qwen3 chat template (hermes {@code <tool_call>} syntax), a plain-JSON-syntax template and Phi-3's template
 * (no tools). {@code required} and a named function must give a call whose arguments validate (networknt) against
 * that function's parameters; {@code auto}/{@code none} give text; the prompt (tools, assistant tool_calls, tool
 * messages) has as many tokens as the Jinja2 reference render; bad tools are that line's error.
 */
class BatchToolsTest {
    @TempDir Path tmp;

    static JsonNode goldens() throws Exception {
        return M.readTree(BatchToolsTest.class.getResource("/goldens/tokenizers/chat_tools.json"));
    }

    /**
     * stories260K with {@code template}; its context raised from 512 to 2048 positions (RoPE: any length runs), as
     * tool definitions in its 512-token vocabulary take 500-800 tokens. Its text is no better there, but the calls are
     * constrained.
     */
    Path modelWith(String name, String template) throws Exception {
        Path src = model(), dir = Files.createDirectories(tmp.resolve(name));
        for (String f : new String[] {"generation_config.json", "model.safetensors", "tokenizer.json"})
            Files.copy(src.resolve(f), dir.resolve(f));
        ObjectNode config = (ObjectNode) M.readTree(src.resolve("config.json").toFile());
        Files.writeString(dir.resolve("config.json"), config.put("max_position_embeddings", 2048).toString());
        ObjectNode tc = (ObjectNode) M.readTree(src.resolve("tokenizer_config.json").toFile());
        tc.put("chat_template", template);
        Files.writeString(dir.resolve("tokenizer_config.json"), tc.toString());
        return dir;
    }

    Map<String, JsonNode> runBatch(Path dir, List<String> lines) throws Exception {
        Path in = tmp.resolve(dir.getFileName() + ".jsonl"), out = tmp.resolve(dir.getFileName() + ".out.jsonl");
        Files.write(in, lines);
        CliErrorsTest.Run r = run("batch", "--model", dir.toString(), "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode o : readOutput(out)) byId.put(o.get("custom_id").asText(), o);
        assertEquals(lines.size(), byId.size());
        return byId;
    }

    static Map<String, Object> chat(JsonNode tools, Object choice, int max) throws Exception {
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("messages", List.of(Map.of("role", "user", "content", "What is the weather in Paris?")));
        req.put("tools", tools);
        if (choice != null) req.put("tool_choice", choice);
        req.put("max_completion_tokens", max);
        req.put("temperature", 0);
        return req;
    }

    static Map<String, Object> named(String name) {
        return Map.of("type", "function", "function", Map.of("name", name));
    }

    /** The one call of a required/named reply; its arguments validate against the function's parameters. */
    static JsonNode assertValidCall(JsonNode line, JsonNode tools, String expectName) throws Exception {
        assertTrue(line.get("error").isNull(), line.toString());
        JsonNode choice = line.at("/response/body/choices/0");
        assertEquals("tool_calls", choice.get("finish_reason").asText(), choice.toString());
        assertTrue(choice.at("/message/content").isNull(), choice.toString());
        JsonNode calls = choice.at("/message/tool_calls");
        assertEquals(1, calls.size(), choice.toString());
        JsonNode call = calls.get(0);
        assertTrue(call.get("id").asText().startsWith("call_"));
        assertEquals("function", call.get("type").asText());
        String name = call.at("/function/name").asText();
        if (expectName != null) assertEquals(expectName, name);
        JsonNode params = null;
        for (JsonNode t : tools) if (t.at("/function/name").asText().equals(name)) params = t.at("/function/parameters");
        assertNotNull(params, "called an unknown function: " + name);
        JsonNode args = M.readTree(call.at("/function/arguments").asText());
        var v = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(params);
        assertEquals(0, v.validate(args).size(), args + " " + v.validate(args));
        return call;
    }

    @Test
    void qwenTemplate() throws Exception {
        String template = M.readTree(Shared.require("models/tokenizers/qwen3/tokenizer_config.json").toFile())
                .get("chat_template").asText();
        Path dir = modelWith("stories-qwen", template);
        JsonNode g = goldens();
        JsonNode tools = g.at("/cases/0/body/tools");
        List<String> lines = new ArrayList<>();
        lines.add(line("required", "/v1/chat/completions", chat(tools, "required", 200)));
        for (int seed = 1; seed <= 2; seed++) {
            Map<String, Object> req = chat(tools, "required", 200);
            req.put("temperature", 1);
            req.put("seed", seed);
            lines.add(line("sampled" + seed, "/v1/chat/completions", req));
        }
        lines.add(line("named", "/v1/chat/completions", chat(tools, named("get_time"), 200)));
        lines.add(line("auto", "/v1/chat/completions", chat(tools, null, 16)));
        lines.add(line("none", "/v1/chat/completions", chat(tools, "none", 16)));
        // round trip: assistant tool_calls and tool messages back, then another required call
        ObjectNode trip = (ObjectNode) g.at("/cases/2/body").deepCopy();
        assertEquals("qwen3", g.at("/cases/2/template").asText());
        trip.put("tool_choice", "required").put("max_completion_tokens", 200).put("temperature", 0);
        lines.add(line("trip", "/v1/chat/completions", trip));
        // bad tools: each is that line's error
        Map<String, Object> format = chat(M.readTree("[{\"type\":\"function\",\"function\":{\"name\":\"when\",\"parameters\":"
                + "{\"type\":\"object\",\"properties\":{\"day\":{\"type\":\"string\",\"format\":\"date\"}}}}}]"), "required", 50);
        lines.add(line("bad-format", "/v1/chat/completions", format));
        lines.add(line("bad-type", "/v1/chat/completions", chat(M.readTree("[{\"type\":\"function\",\"function\":"
                + "{\"name\":\"f\",\"parameters\":{\"type\":\"strng\"}}}]"), null, 50)));
        lines.add(line("bad-name", "/v1/chat/completions", chat(tools, named("get_stock_price"), 50)));
        lines.add(line("bad-choice", "/v1/chat/completions", chat(tools, "always", 50)));
        Map<String, Object> noId = chat(tools, null, 50);
        noId.put("messages", List.of(Map.of("role", "user", "content", "hi"), Map.of("role", "tool", "content", "42")));
        lines.add(line("bad-tool-msg", "/v1/chat/completions", noId));
        Map<String, Object> both = chat(tools, "required", 50);
        both.put("response_format", Map.of("type", "json_object"));
        lines.add(line("bad-both", "/v1/chat/completions", both));

        Map<String, JsonNode> out = runBatch(dir, lines);
        System.out.println("BatchToolsTest required: " + out.get("required"));
        System.out.println("BatchToolsTest auto: " + out.get("auto"));
        assertValidCall(out.get("required"), tools, null);
        assertValidCall(out.get("sampled1"), tools, null);
        assertValidCall(out.get("sampled2"), tools, null);
        assertValidCall(out.get("named"), tools, "get_time");
        assertValidCall(out.get("trip"), tools, null);
        for (String id : new String[] {"auto", "none"}) {
            JsonNode choice = out.get(id).at("/response/body/choices/0");
            assertTrue(choice.at("/message/content").isTextual(), out.get(id).toString());
            assertTrue(choice.at("/message/tool_calls").isMissingNode(), choice.toString());
            assertFalse(choice.get("finish_reason").asText().equals("tool_calls"));
        }
        // the prompts are the Jinja2 reference renders (tools rendered under none too), counted in tokens
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        assertEquals(tok.encode(g.at("/cases/2/text").asText(), false).ids().length,
                out.get("trip").at("/response/body/usage/prompt_tokens").asInt());
        int none = out.get("none").at("/response/body/usage/prompt_tokens").asInt();
        assertEquals(none, out.get("auto").at("/response/body/usage/prompt_tokens").asInt());
        assertTrue(none > 150, "tools are rendered under tool_choice none: " + none + " prompt tokens");

        assertError(out.get("bad-format"), "keyword 'format' is not supported");
        assertError(out.get("bad-type"), "\"type\" must be \"object\"");
        assertError(out.get("bad-name"), "names function 'get_stock_price' but 'tools' has only [get_weather, get_time]");
        assertError(out.get("bad-choice"), "'tool_choice' \"always\" is not one of");
        assertError(out.get("bad-tool-msg"), "needs 'tool_call_id'");
        assertError(out.get("bad-both"), "both constrain the reply");
    }

    @Test
    void jsonTemplateAndNoToolsTemplate() throws Exception {
        JsonNode g = goldens();
        JsonNode tools = g.at("/cases/0/body/tools");
        Path dir = modelWith("stories-json", g.get("json_template").asText());
        List<String> lines = new ArrayList<>();
        lines.add(line("required", "/v1/chat/completions", chat(tools, "required", 200)));
        lines.add(line("named", "/v1/chat/completions", chat(tools, named("get_weather"), 200)));
        lines.add(line("auto", "/v1/chat/completions", chat(tools, "auto", 8)));
        // auto parses a reply that is a call: forced here by response_format (a call-shaped schema), not by tool_choice
        Map<String, Object> forced = chat(tools, "auto", 200);
        forced.put("response_format", Map.of("type", "json_schema", "json_schema", Map.of("name", "call", "schema",
                M.readTree("{\"type\":\"object\",\"properties\":{\"name\":{\"const\":\"get_time\"},\"arguments\":"
                        + tools.at("/1/function/parameters") + "},\"required\":[\"name\",\"arguments\"],"
                        + "\"additionalProperties\":false}"))));
        lines.add(line("auto-call", "/v1/chat/completions", forced));
        Map<String, JsonNode> out = runBatch(dir, lines);
        assertValidCall(out.get("auto-call"), tools, "get_time");
        assertValidCall(out.get("required"), tools, null);
        assertValidCall(out.get("named"), tools, "get_weather");
        assertTrue(out.get("auto").at("/response/body/choices/0/message/tool_calls").isMissingNode());

        String phi = M.readTree(Shared.require("models/tokenizers/phi-3-mini-4k-instruct/tokenizer_config.json").toFile())
                .get("chat_template").asText();
        Map<String, JsonNode> phiOut = runBatch(modelWith("stories-phi", phi),
                List.of(line("tools", "/v1/chat/completions", chat(tools, "required", 50)),
                        line("plain", "/v1/chat/completions", Map.of("messages",
                                List.of(Map.of("role", "user", "content", "Hello")), "max_completion_tokens", 4))));
        assertError(phiOut.get("tools"), "does not render 'tools'");
        assertEquals("tools_unsupported", phiOut.get("tools").at("/error/code").asText());
        assertTrue(phiOut.get("plain").get("error").isNull(), phiOut.get("plain").toString());
    }

    static void assertError(JsonNode line, String words) {
        assertTrue(line.get("response").isNull(), line.toString());
        String m = line.at("/error/message").asText();
        assertTrue(m.contains(words), line.toString());
        assertFalse(m.contains("\n"));
    }
}
