package dev.cortado.cli;

import static dev.cortado.cli.BatchCliTest.M;
import static dev.cortado.cli.BatchCliTest.line;
import static dev.cortado.cli.BatchCliTest.model;
import static dev.cortado.cli.BatchCliTest.readOutput;
import static dev.cortado.cli.CliErrorsTest.assertOneLineError;
import static dev.cortado.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.runtime.Cortado;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.DefaultModels;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.generate.TokenLogprob;
import dev.cortado.registry.Families;
import dev.cortado.tokenizer.Tokenizer;
import dev.cortado.tokenizer.TokenizerConfig;
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
 * `cortado batch` per endpoint, each result compared with an independent path: completions (sampling, stop,
 * penalties, beams, logprobs) with {@link Generator} run alone, chat with the chat template rendered and generated
 * directly, embeddings with `cortado embed`, seq2seq completions with {@link Cortado#translate}; and bad lines
 * whose errors name the problem while the job goes on.
 */
class BatchEndpointsTest {
    @TempDir Path tmp;

    /** Runs a batch file; returns the output lines by custom_id. */
    Map<String, JsonNode> batch(Path model, List<String> lines) throws Exception {
        Path in = tmp.resolve("in" + System.nanoTime() + ".jsonl"), out = tmp.resolve("out" + System.nanoTime() + ".jsonl");
        Files.write(in, lines);
        CliErrorsTest.Run r = run("batch", "--model", model.toString(), "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode o : readOutput(out)) byId.put(o.get("custom_id").asText(), o);
        assertEquals(lines.size(), byId.size());
        return byId;
    }

    static JsonNode body(JsonNode o) {
        assertTrue(o.get("error").isNull(), o.toString());
        return o.at("/response/body");
    }

    static void assertChoices(List<GenerationResult> want, JsonNode choices, String textField) {
        assertEquals(want.size(), choices.size());
        for (int i = 0; i < want.size(); i++) {
            assertEquals(want.get(i).text(), choices.get(i).at(textField).asText(), "choice " + i);
            assertEquals(want.get(i).finishReason().label().equals("length") ? "length" : "stop",
                    choices.get(i).get("finish_reason").asText());
        }
    }

    @Test
    void completionKnobsGiveTheTokensOfGeneratorAlone() throws Exception {
        Path dir = model();
        List<String> lines = List.of(
                line("sample", "/v1/completions", Map.of("prompt", "Once upon a time", "max_tokens", 24, "temperature", 0.8,
                        "seed", 5, "n", 2, "stop", ".")),
                line("penalty", "/v1/completions", Map.of("prompt", "Tim had a red ball", "max_tokens", 20, "temperature", 0,
                        "frequency_penalty", 0.5, "presence_penalty", 0.3, "stop", List.of("!", "\n"))),
                line("beam", "/v1/completions", Map.of("prompt", "One day", "max_tokens", 12, "num_beams", 3, "n", 2)),
                line("logprobs", "/v1/completions", Map.of("prompt", List.of("There was a cat", "The dog ran"), "max_tokens", 6,
                        "temperature", 0, "logprobs", 2)),
                line("topk", "/v1/completions", Map.of("prompt", "Sue wanted to play", "max_tokens", 10, "temperature", 1.2,
                        "top_k", 5, "top_p", 0.9, "seed", 9)));
        Map<String, JsonNode> out = batch(dir, lines);
        GenerationConfig base = GenerationConfig.fromFile(dir.resolve("generation_config.json"));
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        try (LanguageModel lm = Families.openDecoder(dir, new CpuBackend(), Families.Engine.CORTADO)) {
            List<GenerationResult> want = new Generator(lm, tok, base.maxNewTokens(24).temperature(0.8f).doSample(true).seed(5)
                    .numReturnSequences(2).stopStrings(".")).generateBatch(List.of("Once upon a time"));
            assertChoices(want, body(out.get("sample")).get("choices"), "/text");
            assertEquals(want.get(0).ids().length + want.get(1).ids().length,
                    body(out.get("sample")).at("/usage/completion_tokens").asInt());

            want = new Generator(lm, tok, base.maxNewTokens(20).frequencyPenalty(0.5f).presencePenalty(0.3f)
                    .stopStrings("!", "\n")).generateBatch(List.of("Tim had a red ball"));
            assertChoices(want, body(out.get("penalty")).get("choices"), "/text");

            want = new Generator(lm, tok, base.maxNewTokens(12).numBeams(3).numReturnSequences(2)).generateBatch(List.of("One day"));
            assertChoices(want, body(out.get("beam")).get("choices"), "/text");

            want = new Generator(lm, tok, base.maxNewTokens(6).logprobs(2)).generateBatch(List.of("There was a cat", "The dog ran"));
            JsonNode choices = body(out.get("logprobs")).get("choices");
            assertChoices(want, choices, "/text");
            for (int c = 0; c < 2; c++) {
                JsonNode lp = choices.get(c).get("logprobs");
                List<TokenLogprob> w = want.get(c).logprobs();
                assertEquals(w.size(), lp.get("tokens").size());
                for (int t = 0; t < w.size(); t++) {
                    assertEquals(w.get(t).text(), lp.get("tokens").get(t).asText());
                    assertEquals(w.get(t).logprob(), lp.get("token_logprobs").get(t).floatValue(), 1e-3);
                    assertEquals(2, lp.get("top_logprobs").get(t).size());
                }
                assertEquals(c == 0 ? "There was a cat".length() : "The dog ran".length(), lp.get("text_offset").get(0).asInt());
            }

            want = new Generator(lm, tok, base.maxNewTokens(10).temperature(1.2f).doSample(true).topK(5).topP(0.9f).seed(9))
                    .generateBatch(List.of("Sue wanted to play"));
            assertChoices(want, body(out.get("topk")).get("choices"), "/text");
        }
    }

    @Test
    void chatCompletionEqualsTheRenderedTemplateGeneratedDirectly() throws Exception {
        Path dir = ServeFixture.chatModel(tmp, "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                + "{% if add_generation_prompt %}assistant:{% endif %}");
        List<Map<String, Object>> messages = List.of(
                Map.of("role", "system", "content", "Tell a story."),
                Map.of("role", "user", "content", List.of(Map.of("type", "text", "text", "Once upon a time"))));
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("model", "stories-chat");
        req.put("messages", messages);
        req.put("max_completion_tokens", 20);
        req.put("temperature", 0);
        req.put("logprobs", true);
        req.put("top_logprobs", 2);
        Map<String, JsonNode> out = batch(dir, List.of(line("c1", "/v1/chat/completions", req)));

        List<Map<String, Object>> plain = List.of(
                Map.of("role", "system", "content", "Tell a story."), Map.of("role", "user", "content", "Once upon a time"));
        String rendered = TokenizerConfig.load(dir.resolve("tokenizer_config.json")).applyChatTemplate(plain, true, null);
        assertEquals("<s>system: Tell a story.\nuser: Once upon a time\nassistant:", rendered);
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        int[] ids = tok.encode(rendered, false).ids();
        GenerationConfig c = GenerationConfig.fromFile(dir.resolve("generation_config.json")).maxNewTokens(20).logprobs(2);
        GenerationResult want;
        try (LanguageModel lm = Families.openDecoder(dir, new CpuBackend(), Families.Engine.CORTADO)) {
            want = new Generator(lm, tok, c).generateIds(new int[][] {ids}).getFirst();
        }
        JsonNode b = body(out.get("c1"));
        assertEquals("chat.completion", b.get("object").asText());
        assertEquals("stories-chat", b.get("model").asText());
        JsonNode choice = b.get("choices").get(0);
        assertEquals("assistant", choice.at("/message/role").asText());
        assertEquals(want.text(), choice.at("/message/content").asText());
        assertEquals(ids.length, b.at("/usage/prompt_tokens").asInt());
        assertEquals(want.ids().length, b.at("/usage/completion_tokens").asInt());
        JsonNode content = choice.at("/logprobs/content");
        assertEquals(want.logprobs().size(), content.size());
        for (int t = 0; t < content.size(); t++) {
            assertEquals(want.logprobs().get(t).text(), content.get(t).get("token").asText());
            assertEquals(want.logprobs().get(t).logprob(), content.get(t).get("logprob").floatValue(), 1e-3);
            assertEquals(2, content.get(t).get("top_logprobs").size());
        }
    }

    @Test
    void embeddingsEqualEmbedCommand() throws Exception {
        Path dir = DefaultModels.minilm();
        List<String> texts = List.of("A man is eating food.", "A cat sits on the mat.", "The weather is nice today.");
        Map<String, JsonNode> out = batch(dir, List.of(
                line("e1", "/v1/embeddings", Map.of("input", texts.getFirst(), "model", dir.getFileName().toString())),
                line("e2", "/v1/embeddings", Map.of("input", texts.subList(1, 3), "encoding_format", "float"))));
        CliErrorsTest.Run e = run("embed", "--model", dir.toString(), texts.get(0), texts.get(1), texts.get(2));
        assertEquals(0, e.code(), e.err());
        List<JsonNode> want = new ArrayList<>();
        for (String l : e.out().strip().split("\n")) want.add(M.readTree(l).get("embedding"));
        List<JsonNode> got = new ArrayList<>();
        got.add(body(out.get("e1")).at("/data/0/embedding"));
        got.add(body(out.get("e2")).at("/data/0/embedding"));
        got.add(body(out.get("e2")).at("/data/1/embedding"));
        assertEquals("list", body(out.get("e2")).get("object").asText());
        assertEquals(1, body(out.get("e2")).at("/data/1/index").asInt());
        assertTrue(body(out.get("e1")).at("/usage/prompt_tokens").asInt() > 5);
        for (int i = 0; i < 3; i++) {
            assertEquals(384, got.get(i).size());
            for (int k = 0; k < 384; k++) assertEquals(want.get(i).get(k).floatValue(), got.get(i).get(k).floatValue(), 1e-5);
        }
    }

    @Test
    void seq2seqCompletionIsTheTranslationOfTheFacade() throws Exception {
        Path dir = Path.of("models/cortado-en-de");
        List<String> sources = List.of("This package contains the documentation.", "The library is used by many programs.",
                "This package contains the development files for the library.");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++)
            lines.add(line("t" + i, "/v1/completions", Map.of("prompt", sources.get(i), "model", "cortado-en-de")));
        lines.add(line("chat", "/v1/chat/completions", Map.of("messages", List.of(Map.of("role", "user", "content", "hi")))));
        lines.add(line("sample", "/v1/completions", Map.of("prompt", "x", "temperature", 0.7)));
        lines.add(line("nbest", "/v1/completions", Map.of("prompt", sources.getFirst(), "n", 2, "max_tokens", 30)));
        Map<String, JsonNode> out = batch(dir, lines);
        assertTrue(out.get("sample").at("/error/message").asText().contains("num_beams = 4 (the model's generation_config.json)"),
                out.get("sample").toString());
        try (Cortado rt = Cortado.open(dir)) {
            for (int i = 0; i < sources.size(); i++) {
                GenerationResult want = rt.translate(List.of(sources.get(i)), rt.generationConfig()).getFirst();
                JsonNode b = body(out.get("t" + i));
                assertEquals(want.text(), b.at("/choices/0/text").asText(), sources.get(i));
                assertEquals(want.ids().length, b.at("/usage/completion_tokens").asInt());
            }
        }
        try (Cortado rt = Cortado.open(dir)) {
            List<GenerationResult> want = rt.translate(List.of(sources.getFirst()), rt.generationConfig().numReturnSequences(2).maxNewTokens(30));
            assertChoices(want, body(out.get("nbest")).get("choices"), "/text");
        }
        assertTrue(out.get("chat").at("/error/message").asText().contains("text generation model"), out.get("chat").toString());
    }

    @Test
    void badLinesNameTheProblemAndTheJobGoesOn() throws Exception {
        String longPrompt = "Once upon a time ".repeat(200);
        Map<String, String> expect = new LinkedHashMap<>();
        List<String> lines = new ArrayList<>();
        lines.add(line("good", "/v1/completions", Map.of("prompt", "Once upon a time", "max_tokens", 5)));
        lines.add("{\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{\"prompt\":\"x\"}}");
        expect.put("line-2", "no custom_id");
        lines.add("{\"custom_id\":\"get\",\"method\":\"GET\",\"url\":\"/v1/completions\",\"body\":{\"prompt\":\"x\"}}");
        expect.put("get", "method 'GET'");
        lines.add(line("url", "/v1/images/generations", Map.of("prompt", "x")));
        expect.put("url", "url '/v1/images/generations' is not supported");
        lines.add("{\"custom_id\":\"nobody\",\"method\":\"POST\",\"url\":\"/v1/completions\"}");
        expect.put("nobody", "no body");
        lines.add("{\"custom_id\":\"strbody\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":\"x\"}");
        expect.put("strbody", "body must be a JSON object");
        lines.add(line("zero", "/v1/completions", Map.of("prompt", "x", "max_tokens", 0)));
        expect.put("zero", "max_tokens = 0");
        lines.add(line("huge", "/v1/completions", Map.of("prompt", "x", "max_tokens", 100000)));
        expect.put("huge", "max_tokens = 100000 plus the prompt's");
        lines.add(line("long", "/v1/completions", Map.of("prompt", longPrompt)));
        expect.put("long", "tokens but the model's context is 512 tokens; shorten it");
        lines.add(line("greedyn", "/v1/completions", Map.of("prompt", "x", "n", 2)));
        expect.put("greedyn", "n = 2 needs sampling");
        lines.add(line("beams", "/v1/completions", Map.of("prompt", "x", "n", 4, "num_beams", 2)));
        expect.put("beams", "n = 4 is more than num_beams = 2");
        lines.add(line("toplp", "/v1/chat/completions", Map.of("messages", List.of(Map.of("role", "user", "content", "x")),
                "top_logprobs", 2)));
        expect.put("toplp", "top_logprobs needs logprobs: true");
        lines.add(line("stream", "/v1/completions", Map.of("prompt", "x", "stream", true)));
        expect.put("stream", "stream");
        lines.add(line("type", "/v1/completions", Map.of("prompt", "x", "max_tokens", "ten")));
        expect.put("type", "'max_tokens' must be an integer");
        lines.add(line("temp", "/v1/completions", Map.of("prompt", "x", "temperature", 3)));
        expect.put("temp", "'temperature' = 3 is out of range");
        lines.add(line("noprompt", "/v1/completions", Map.of("max_tokens", 3)));
        expect.put("noprompt", "'prompt' is missing");
        lines.add(line("chat", "/v1/chat/completions", Map.of("messages", List.of(Map.of("role", "user", "content", "x")))));
        expect.put("chat", "no chat_template");
        lines.add(line("emb", "/v1/embeddings", Map.of("input", "x")));
        expect.put("emb", "needs an embedding model");
        lines.add(line("bestof", "/v1/completions", Map.of("prompt", "x", "best_of", 3)));
        expect.put("bestof", "best_of = 3 is not supported");
        lines.add(line("vocab", "/v1/completions", Map.of("prompt", List.of(1, 99999))));
        expect.put("vocab", "outside the vocabulary");
        Map<String, JsonNode> out = batch(model(), lines);
        assertTrue(out.get("good").get("error").isNull());
        assertEquals(5, out.get("good").at("/response/body/usage/completion_tokens").asInt());
        for (var e : expect.entrySet()) {
            JsonNode o = out.get(e.getKey());
            assertTrue(o.get("response").isNull(), o.toString());
            String msg = o.at("/error/message").asText();
            assertTrue(msg.contains(e.getValue()), e.getKey() + ": '" + msg + "' should contain '" + e.getValue() + "'");
            assertTrue(!msg.contains("\n") && !msg.contains("\tat "), msg);
        }
    }

    @Test
    void commandErrorsAreOneLine() throws Exception {
        Path in = Files.writeString(tmp.resolve("in.jsonl"), "");
        String m = model().toString(), o = tmp.resolve("o.jsonl").toString();
        assertOneLineError(run("batch", "--model", m, "--input", tmp.resolve("nope.jsonl").toString(), "--output", o), "not found");
        assertOneLineError(run("batch", "--model", tmp.resolve("nomodel").toString(), "--input", in.toString(), "--output", o), "model not found");
        assertOneLineError(run("batch", "--model", m, "--input", in.toString(), "--output", o, "--max-concurrent", "0"), "--max-concurrent");
        assertOneLineError(run("batch", "--model", m, "--input", in.toString(), "--output", o, "--kv-memory", "lots"), "lots");
        assertOneLineError(run("batch", "--model", m, "--input", in.toString(), "--output", in.toString()), "--output");
        assertOneLineError(run("batch", "--model", m, "--input", in.toString()), "--output");
    }
}
