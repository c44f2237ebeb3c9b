package dev.cortado.cli;

import static dev.cortado.cli.CliErrorsTest.assertOneLineError;
import static dev.cortado.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `cortado batch` on stories260K: a 1,000-line file with malformed lines, SIGKILL + resume, and every greedy result
 * compared with the same prompt generated directly by {@link Generator} on the model (the path of
 * `cortado generate`, itself checked against llama2.c in GenerateCliTest).
 */
class BatchCliTest {
    static final ObjectMapper M = new ObjectMapper();
    static final String[] PROMPTS = {"Once upon a time", "One day", "Tim had a red ball", "There was a cat",
        "Lily and Tom went to the park.", "Sam liked to eat apples. Every morning he", "The sun was shining",
        "A little bird", "Mom said", "The dog ran", "Sue wanted to play", "It was a big box", "Ben saw a frog",
        "The girl smiled", "In the garden", "A boy named Max", "The car was red", "She found a key", "Once there",
        "The old tree"};

    @TempDir Path tmp;

    static Path model() {
        return Shared.require("models/stories260K");
    }

    static String line(String id, String url, Object body) throws Exception {
        ObjectNode o = M.createObjectNode().put("custom_id", id).put("method", "POST").put("url", url);
        o.set("body", M.valueToTree(body));
        return M.writeValueAsString(o);
    }

    static int maxTokens(int i) {
        return 2 + i % 3;
    }

    /** 1,000 lines: 990 greedy completions and 10 bad lines (their expected error words in {@code bad}). */
    static List<String> thousandLines(Map<String, String> bad) throws Exception {
        List<String> lines = new ArrayList<>();
        String longPrompt = "Once upon a time ".repeat(200);
        Object[][] malformed = {
            {"not json at all", "line-", "not valid JSON"},
            {"{\"custom_id\":\"b1\",\"method\":\"POST\",\"url\":\"/v1/edits\",\"body\":{\"prompt\":\"x\"}}", "b1", "/v1/edits"},
            {"{\"custom_id\":\"b2\",\"method\":\"POST\",\"url\":\"/v1/completions\"}", "b2", "body"},
            {line("b3", "/v1/completions", Map.of("prompt", "x", "max_tokens", 0)), "b3", "max_tokens"},
            {line("b4", "/v1/completions", Map.of("prompt", "x", "max_tokens", 5000)), "b4", "context"},
            {line("b5", "/v1/completions", Map.of("prompt", longPrompt, "max_tokens", 4)), "b5", "context"},
            {line("b6", "/v1/completions", Map.of("prompt", "x", "frobnicate", 1)), "b6", "frobnicate"},
            {line("b7", "/v1/completions", Map.of("prompt", "x", "n", 3, "temperature", 0)), "b7", "n = 3"},
            {line("b8", "/v1/completions", Map.of("prompt", "x", "model", "gpt-4o")), "b8", "gpt-4o"},
            {line("r0", "/v1/completions", Map.of("prompt", "x")), "line-", "duplicate"},
        };
        int b = 0;
        for (int i = 0; i < 990; i++) {
            if (i % 99 == 50) {
                Object[] m = malformed[b++];
                String key = m[1].equals("line-") ? "line-" + (lines.size() + 1) : (String) m[1];
                bad.put(key, (String) m[2]);
                lines.add((String) m[0]);
            }
            Map<String, Object> body = new LinkedHashMap<>();
            if (i % 2 == 0) body.put("model", "stories260K");
            body.put("prompt", PROMPTS[i % PROMPTS.length]);
            body.put("max_tokens", maxTokens(i));
            body.put("temperature", 0);
            lines.add(line("r" + i, "/v1/completions", body));
        }
        assertEquals(1000, lines.size());
        assertEquals(10, bad.size());
        return lines;
    }

    static List<JsonNode> readOutput(Path out) throws Exception {
        List<JsonNode> rs = new ArrayList<>();
        for (String l : Files.readAllLines(out, StandardCharsets.UTF_8)) rs.add(M.readTree(l));
        return rs;
    }

    /** The greedy text of a prompt generated directly (Generator on the model, the model's generation_config). */
    static Map<String, GenerationResult> direct(List<String> prompts, int[] maxTokens) {
        Path dir = model();
        Map<String, GenerationResult> out = new HashMap<>();
        GenerationConfig base = GenerationConfig.fromFile(dir.resolve("generation_config.json"));
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        try (LanguageModel lm = Families.openDecoder(dir, new CpuBackend(), Families.Engine.CORTADO)) {
            for (String p : prompts)
                for (int max : maxTokens)
                    out.put(p + "|" + max, new Generator(lm, tok, base.maxNewTokens(max)).generate(p));
        }
        return out;
    }

    @Test
    void thousandLinesWithTenMalformedGiveNineHundredNinetyResultsAndTenErrorsEqualToDirectGeneration() throws Exception {
        Map<String, String> bad = new HashMap<>();
        Path in = tmp.resolve("requests.jsonl"), out = tmp.resolve("results.jsonl");
        Files.write(in, thousandLines(bad));
        CliErrorsTest.Run r = run("batch", "--model", model().toString(), "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("990 results, 10 errors"), r.err());
        assertTrue(r.err().contains("1000/1000"), "progress bar shows done/total: " + r.err());
        List<JsonNode> rs = readOutput(out);
        assertEquals(1000, rs.size());
        Map<String, GenerationResult> want = direct(List.of(PROMPTS), new int[] {2, 3, 4});
        Set<String> ids = new HashSet<>();
        int ok = 0;
        for (JsonNode o : rs) {
            String id = o.get("custom_id").asText();
            assertTrue(ids.add(id), "duplicate custom_id " + id);
            assertTrue(o.get("id").asText().startsWith("batch_req_"));
            if (bad.containsKey(id)) {
                assertTrue(o.get("response").isNull());
                String msg = o.get("error").get("message").asText();
                assertTrue(msg.contains(bad.get(id)), id + ": '" + msg + "' should name " + bad.get(id));
                assertTrue(!o.get("error").get("code").asText().isEmpty());
                continue;
            }
            ok++;
            assertTrue(o.get("error").isNull(), o.toString());
            int i = Integer.parseInt(id.substring(1));
            JsonNode resp = o.get("response");
            assertEquals(200, resp.get("status_code").asInt());
            JsonNode body = resp.get("body");
            assertEquals("text_completion", body.get("object").asText());
            assertEquals("stories260K", body.get("model").asText());
            GenerationResult g = want.get(PROMPTS[i % PROMPTS.length] + "|" + maxTokens(i));
            JsonNode choice = body.get("choices").get(0);
            assertEquals(g.text(), choice.get("text").asText(), id);
            assertEquals(g.finishReason().label().equals("length") ? "length" : "stop", choice.get("finish_reason").asText());
            JsonNode usage = body.get("usage");
            assertEquals(g.ids().length, usage.get("completion_tokens").asInt());
            assertEquals(usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt(), usage.get("total_tokens").asInt());
        }
        assertEquals(990, ok);
        for (String k : bad.keySet()) assertTrue(ids.contains(k), "error line for " + k);
    }

    @Test
    void greedyCompletionEqualsGenerateCommand() throws Exception {
        Path in = tmp.resolve("in.jsonl"), out = tmp.resolve("out.jsonl");
        Files.writeString(in, line("a", "/v1/completions", Map.of("prompt", "Once upon a time", "max_tokens", 40, "temperature", 0)) + "\n");
        assertEquals(0, run("batch", "--model", model().toString(), "--input", in.toString(), "--output", out.toString()).code());
        CliErrorsTest.Run g = run("generate", "--model", model().toString(), "--prompt", "Once upon a time", "--max-tokens", "40");
        assertEquals(0, g.code(), g.err());
        assertEquals(g.out().stripTrailing(), readOutput(out).getFirst().at("/response/body/choices/0/text").asText());
    }

    @Test
    void killedHalfwayThenRerunGivesExactlyOneLinePerRequest() throws Exception {
        Map<String, String> bad = new HashMap<>();
        Path in = tmp.resolve("requests.jsonl"), out = tmp.resolve("results.jsonl");
        List<String> lines = thousandLines(bad);
        Files.write(in, lines);
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                "-Dcortado.packCache=false", "-cp", System.getProperty("java.class.path"), "dev.cortado.cli.Main", "batch", "--model", model().toString(),
                "--input", in.toString(), "--output", out.toString(), "--max-concurrent", "4")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        int seen = 0;
        while (p.isAlive() && System.nanoTime() < deadline && (seen = count(out)) < 300) Thread.sleep(20);
        assertTrue(p.isAlive(), "the child finished before it could be killed (" + seen + " lines): "
                + Files.readString(tmp.resolve("child.log")));
        p.destroyForcibly();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        int partial = count(out);
        assertTrue(partial >= 300 && partial < 1000, "killed halfway: " + partial + " lines");
        // a write cut short by the kill: the rerun must drop it
        Files.writeString(out, "{\"id\":\"batch_req_x\",\"custom_id\":\"r98", StandardOpenOption.APPEND);
        CliErrorsTest.Run r = run("batch", "--model", model().toString(), "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("already in"), r.err());
        List<JsonNode> rs = readOutput(out);
        assertEquals(1000, rs.size());
        Set<String> ids = new HashSet<>();
        int errors = 0;
        for (JsonNode o : rs) {
            assertTrue(ids.add(o.get("custom_id").asText()), "duplicate " + o.get("custom_id"));
            if (!o.get("error").isNull()) errors++;
        }
        assertEquals(10, errors);
        for (int i = 0; i < 990; i++) assertTrue(ids.contains("r" + i), "r" + i);
        // a third run finds nothing left to do
        r = run("batch", "--model", model().toString(), "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("0 results, 0 errors, 1000 already in"), r.err());
        assertEquals(1000, count(out));
    }

    private static int count(Path out) throws Exception {
        if (!Files.exists(out)) return 0;
        byte[] b = Files.readAllBytes(out);
        int n = 0;
        for (byte x : b) if (x == '\n') n++;
        return n;
    }
}
