package dev.cortado.cli;

import static dev.cortado.cli.BatchCliTest.M;
import static dev.cortado.cli.BatchCliTest.line;
import static dev.cortado.cli.BatchCliTest.model;
import static dev.cortado.cli.BatchCliTest.readOutput;
import static dev.cortado.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
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
 * {@code response_format} on {@code /v1/chat/completions} in {@code cortado batch} (stories260K with a chat template):
 * json_schema replies parse and validate against the schema with networknt, json_object replies are JSON objects
 * when complete, text is unconstrained, and a bad schema is that line's error naming the keyword.
 */
class BatchResponseFormatTest {
    @TempDir Path tmp;

    @Test
    void chatResponseFormat() throws Exception {
        Path dir = ServeFixture.chatModel(tmp, "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                + "{% if add_generation_prompt %}assistant:{% endif %}");
        String schema = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":10},"
                + "\"mood\":{\"enum\":[\"happy\",\"sad\"]},\"age\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":9}},"
                + "\"required\":[\"name\",\"mood\",\"age\"],\"additionalProperties\":false}";
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Map<String, Object> req = chat("Tell me about Tom " + i, 120);
            req.put("response_format", Map.of("type", "json_schema", "json_schema",
                    Map.of("name", "person", "strict", true, "schema", M.readTree(schema))));
            if (i % 2 == 1) {
                req.put("temperature", 1);
                req.put("seed", i);
            }
            lines.add(line("s" + i, "/v1/chat/completions", req));
        }
        Map<String, Object> obj = chat("Once upon a time", 12);
        obj.put("response_format", Map.of("type", "json_object"));
        lines.add(line("o", "/v1/chat/completions", obj));
        Map<String, Object> text = chat("Once upon a time", 8);
        text.put("response_format", Map.of("type", "text"));
        lines.add(line("t", "/v1/chat/completions", text));
        Map<String, Object> bad = chat("x", 8);
        bad.put("response_format", Map.of("type", "json_schema", "json_schema",
                Map.of("name", "d", "schema", Map.of("type", "string", "format", "date"))));
        lines.add(line("bad", "/v1/chat/completions", bad));

        Path in = tmp.resolve("in.jsonl"), out = tmp.resolve("out.jsonl");
        Files.write(in, lines);
        CliErrorsTest.Run r = run("batch", "--model", dir.toString(), "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode o : readOutput(out)) byId.put(o.get("custom_id").asText(), o);

        var validator = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schema);
        for (int i = 0; i < 4; i++) {
            JsonNode choice = byId.get("s" + i).at("/response/body/choices/0");
            assertEquals("stop", choice.get("finish_reason").asText(), choice.toString());
            JsonNode value = M.readTree(choice.at("/message/content").asText());
            assertEquals(0, validator.validate(value).size(), value + " " + validator.validate(value));
        }
        JsonNode o = byId.get("o").at("/response/body/choices/0");
        String content = o.at("/message/content").asText();
        assertTrue(content.startsWith("{"), content);
        if (o.get("finish_reason").asText().equals("stop")) assertTrue(M.readTree(content).isObject(), content);
        else assertEquals("length", o.get("finish_reason").asText());
        assertTrue(byId.get("t").get("error").isNull(), byId.get("t").toString());
        String err = byId.get("bad").at("/error/message").asText();
        assertTrue(err.contains("keyword 'format' is not supported"), byId.get("bad").toString());
    }

    static Map<String, Object> chat(String content, int max) {
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("model", "stories-chat");
        req.put("messages", List.of(Map.of("role", "user", "content", content)));
        req.put("max_completion_tokens", max);
        req.put("temperature", 0);
        return req;
    }
}
