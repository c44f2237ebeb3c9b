package dev.cortado.cli;

import static dev.cortado.cli.ServeFixture.base;
import static dev.cortado.cli.ServeFixture.direct;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.models.Model;
import dev.cortado.runtime.Cortado;
import dev.cortado.engine.DefaultModels;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.server.OpenAiServer;
import dev.cortado.tokenizer.Tokenizer;
import dev.cortado.tokenizer.TokenizerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `cortado serve` through the official OpenAI Java client (responses validated by the client): completions,
 * chat completions (TinyLlama's chat template), streaming, logprobs, embeddings and seq2seq completions, each
 * compared with an independent path: {@link Generator} alone on the same folder, {@code cortado generate} and
 * {@code cortado embed}, {@link Cortado#translate}.
 */
class ServeClientTest {
    @TempDir static Path tmp;
    static Path stories, chat, minilm, enDe;
    static OpenAiServer server;
    static OpenAIClient client, streamingCompletions;

    @BeforeAll
    static void start() throws Exception {
        stories = ServeFixture.stories();
        chat = ServeFixture.chatModel(tmp);
        minilm = DefaultModels.minilm();
        enDe = Path.of("models/cortado-en-de");
        // a 20 ms heartbeat: the streams below carry ": keep-alive" comments between chunks, which the client must skip
        server = ServeFixture.start(ServeFixture.loopback().heartbeat(java.time.Duration.ofMillis(20)), stories, chat, minilm, enDe);
        client = ServeFixture.client(server, null);
        streamingCompletions = ServeFixture.client(server, null, false);
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (streamingCompletions != null) streamingCompletions.close();
        if (server != null) server.close();
    }

    static CompletionCreateParams.Builder completion(String prompt, int maxTokens) {
        return CompletionCreateParams.builder().model("stories260K").prompt(prompt).maxTokens(maxTokens).temperature(0.0);
    }

    @Test
    void modelsAreListed() {
        List<String> ids = client.models().list().data().stream().map(Model::id).toList();
        assertEquals(List.of("stories260K", "stories-chat", DefaultModels.MINILM, "cortado-en-de"), ids);
    }

    @Test
    void greedyCompletionEqualsGeneratorAloneAndTheGenerateCommand() {
        String prompt = "Once upon a time";
        Completion c = client.completions().create(completion(prompt, 20).build());
        GenerationResult want = direct(stories, base(stories).maxNewTokens(20), List.of(prompt)).getFirst();
        assertEquals(want.text(), c.choices().getFirst().text());
        assertEquals(CompletionChoice.FinishReason.LENGTH, c.choices().getFirst().finishReason());
        assertEquals(want.ids().length, c.usage().orElseThrow().completionTokens());
        Completion ids = client.completions().create(completion(prompt, 20)
                .putAdditionalBodyProperty("return_token_ids", com.openai.core.JsonValue.from(true)).build());
        int[] tokenIds = ids.choices().getFirst()._additionalProperties().get("token_ids").convert(int[].class);
        assertEquals(java.util.Arrays.toString(want.ids()), java.util.Arrays.toString(tokenIds), "vLLM's return_token_ids");
        CliErrorsTest.Run g = CliErrorsTest.run("generate", "--model", stories.toString(), "--prompt", prompt, "--max-tokens", "20");
        assertEquals(0, g.code(), g.err());
        assertEquals(g.out().strip(), c.choices().getFirst().text().strip());
    }

    @Test
    void completionLogprobsAndSamplingKnobsMatchGenerator() {
        String prompt = "There was a cat";
        Completion c = client.completions().create(completion(prompt, 8).logprobs(3).build());
        GenerationResult want = direct(stories, base(stories).maxNewTokens(8).logprobs(3), List.of(prompt)).getFirst();
        var lp = c.choices().getFirst().logprobs().orElseThrow();
        assertEquals(want.logprobs().size(), lp.tokens().orElseThrow().size());
        for (int t = 0; t < want.logprobs().size(); t++) {
            assertEquals(want.logprobs().get(t).text(), lp.tokens().orElseThrow().get(t));
            assertEquals(want.logprobs().get(t).logprob(), lp.tokenLogprobs().orElseThrow().get(t), 1e-3);
            assertEquals(3, lp.topLogprobs().orElseThrow().get(t)._additionalProperties().size());
        }
        assertEquals(prompt.length(), lp.textOffset().orElseThrow().getFirst());

        Completion s = client.completions().create(CompletionCreateParams.builder().model("stories260K").prompt(prompt)
                .maxTokens(16).temperature(0.8).seed(7).n(2).stop(".").build());
        List<GenerationResult> sampled = direct(stories, base(stories).maxNewTokens(16).temperature(0.8f).doSample(true)
                .seed(7).numReturnSequences(2).stopStrings("."), List.of(prompt));
        assertEquals(2, s.choices().size());
        for (int i = 0; i < 2; i++) assertEquals(sampled.get(i).text(), s.choices().get(i).text());
    }

    @Test
    void chatCompletionEqualsTheTemplateRenderedAndGeneratedDirectly() throws Exception {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model("stories-chat")
                .addSystemMessage("Tell a story.").addUserMessage("Once upon a time").maxCompletionTokens(20)
                .temperature(0.0).logprobs(true).topLogprobs(2).build());
        GenerationResult want = chatReference(20, 2);
        var choice = c.choices().getFirst();
        assertEquals(want.text(), choice.message().content().orElseThrow());
        List<ChatCompletionTokenLogprob> lps = choice.logprobs().orElseThrow().content().orElseThrow();
        assertEquals(want.logprobs().size(), lps.size());
        for (int t = 0; t < lps.size(); t++) {
            assertEquals(want.logprobs().get(t).text(), lps.get(t).token());
            assertEquals(want.logprobs().get(t).logprob(), lps.get(t).logprob(), 1e-3);
            assertEquals(2, lps.get(t).topLogprobs().size());
        }
        assertEquals(want.ids().length, c.usage().orElseThrow().completionTokens());
    }

    /** The chat request rendered with TinyLlama's template and generated by {@link Generator} alone. */
    static GenerationResult chatReference(int maxTokens, Integer logprobs) throws Exception {
        String rendered = TokenizerConfig.load(chat.resolve("tokenizer_config.json")).applyChatTemplate(List.of(
                Map.of("role", "system", "content", "Tell a story."), Map.of("role", "user", "content", "Once upon a time")), true, null);
        assertTrue(rendered.contains("<|user|>\nOnce upon a time</s>") && rendered.endsWith("<|assistant|>\n"), rendered);
        Tokenizer tok = Tokenizer.fromFile(chat.resolve("tokenizer.json"));
        GenerationConfig c = base(chat).maxNewTokens(maxTokens);
        if (logprobs != null) c = c.logprobs(logprobs);
        try (LanguageModel lm = Families.openDecoder(chat, new CpuBackend(), Families.Engine.CORTADO)) {
            return new Generator(lm, tok, c).generateIds(new int[][] {tok.encode(rendered, false).ids()}).getFirst();
        }
    }

    @Test
    void streamedCompletionConcatenatesToTheGreedyTextWithUsageLast() {
        String prompt = "Tim had a red ball";
        StringBuilder text = new StringBuilder();
        List<Completion> chunks = new ArrayList<>();
        try (StreamResponse<Completion> s = streamingCompletions.completions().createStreaming(completion(prompt, 24)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(chunks::add);
        }
        for (Completion c : chunks) for (CompletionChoice ch : c.choices()) text.append(ch.text());
        GenerationResult want = direct(stories, base(stories).maxNewTokens(24), List.of(prompt)).getFirst();
        assertEquals(want.text(), text.toString());
        assertTrue(chunks.size() > 10, "one chunk per token, got " + chunks.size());
        Completion last = chunks.getLast();
        assertTrue(last.choices().isEmpty());
        assertEquals(want.ids().length, last.usage().orElseThrow().completionTokens());
        assertEquals("length", chunks.get(chunks.size() - 2).choices().getFirst().finishReason().asString());
    }

    @Test
    void streamedBeamSearchAndNBestGiveEachChoiceItsWholeText() {
        String prompt = "One day";
        CompletionCreateParams p = CompletionCreateParams.builder().model("stories260K").prompt(prompt).maxTokens(12).n(2)
                .putAdditionalBodyProperty("num_beams", com.openai.core.JsonValue.from(3)).build();
        List<GenerationResult> want = direct(stories, base(stories).maxNewTokens(12).numBeams(3).numReturnSequences(2),
                List.of(prompt));
        StringBuilder[] text = {new StringBuilder(), new StringBuilder()};
        try (StreamResponse<Completion> s = streamingCompletions.completions().createStreaming(p)) {
            s.stream().forEach(ch -> ch.choices().forEach(x -> text[(int) x.index()].append(x.text())));
        }
        for (int i = 0; i < 2; i++) assertEquals(want.get(i).text(), text[i].toString(), "choice " + i);
        Completion whole = client.completions().create(p);
        for (int i = 0; i < 2; i++) assertEquals(want.get(i).text(), whole.choices().get(i).text());
    }

    @Test
    void streamedChatConcatenatesToTheNonStreamedReply() throws Exception {
        StringBuilder text = new StringBuilder();
        AtomicReference<String> role = new AtomicReference<>(), finish = new AtomicReference<>();
        List<String> tokens = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("stories-chat").addSystemMessage("Tell a story.")
                        .addUserMessage("Once upon a time").maxCompletionTokens(20).temperature(0.0).logprobs(true).build())) {
            s.stream().forEach(ch -> {
                for (var c : ch.choices()) {
                    c.delta().role().ifPresent(r -> role.compareAndSet(null, r.asString()));
                    c.delta().content().ifPresent(text::append);
                    c.finishReason().ifPresent(f -> finish.set(f.asString()));
                    c.logprobs().flatMap(l -> l.content()).ifPresent(l -> l.forEach(t -> tokens.add(t.token())));
                }
            });
        }
        GenerationResult want = chatReference(20, 0);
        assertEquals("assistant", role.get());
        assertEquals(want.text(), text.toString());
        assertEquals(want.finishReason().label().equals("length") ? "length" : "stop", finish.get());
        assertEquals(want.logprobs().stream().map(t -> t.text()).toList(), tokens);
    }

    @Test
    void structuredOutputStreamsAValidJsonReply() throws Exception {
        String schema = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":10},"
                + "\"age\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":9}},\"required\":[\"name\",\"age\"],"
                + "\"additionalProperties\":false}";
        var format = com.openai.core.JsonValue.from(Map.of("type", "json_schema", "json_schema",
                Map.of("name", "person", "strict", true, "schema", ServeFixture.M.readValue(schema, Map.class))));
        ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model("stories-chat").addUserMessage("Tell me about Tom")
                .maxCompletionTokens(120).temperature(0.0).putAdditionalBodyProperty("response_format", format).build();
        StringBuilder streamed = new StringBuilder();
        AtomicReference<String> finish = new AtomicReference<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
            s.stream().forEach(ch -> ch.choices().forEach(c -> {
                c.delta().content().ifPresent(streamed::append);
                c.finishReason().ifPresent(f -> finish.set(f.asString()));
            }));
        }
        assertEquals("stop", finish.get());
        var validator = com.networknt.schema.JsonSchemaFactory.getInstance(com.networknt.schema.SpecVersion.VersionFlag.V202012)
                .getSchema(schema);
        var value = ServeFixture.M.readTree(streamed.toString());
        assertEquals(0, validator.validate(value).size(), value + " " + validator.validate(value));
        assertEquals(streamed.toString(), client.chat().completions().create(p).choices().getFirst().message().content().orElseThrow());
    }

    @Test
    void embeddingsEqualTheEmbedCommandAsFloatsAndBase64() throws Exception {
        List<String> texts = List.of("A man is eating food.", "The weather is nice today.");
        CliErrorsTest.Run e = CliErrorsTest.run("embed", "--model", minilm.toString(), texts.get(0), texts.get(1));
        assertEquals(0, e.code(), e.err());
        String[] lines = e.out().strip().split("\n");
        for (var format : List.of(EmbeddingCreateParams.EncodingFormat.FLOAT, EmbeddingCreateParams.EncodingFormat.BASE64)) {
            CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder().model(DefaultModels.MINILM)
                    .inputOfArrayOfStrings(texts).encodingFormat(format).build());
            assertEquals(2, r.data().size());
            assertTrue(r.usage().promptTokens() > 5);
            for (int i = 0; i < 2; i++) {
                var want = ServeFixture.M.readTree(lines[i]).get("embedding");
                List<Float> got = r.data().get(i).embedding();
                assertEquals(384, got.size(), format.toString());
                for (int k = 0; k < 384; k++) assertEquals(want.get(k).floatValue(), got.get(k), 1e-5, format + " " + i + "/" + k);
            }
        }
    }

    @Test
    void seq2seqCompletionIsTheFacadeTranslationStreamedOrNot() {
        String source = "This package contains the documentation.";
        String want;
        try (Cortado rt = Cortado.open(enDe)) {
            want = rt.translate(List.of(source), rt.generationConfig()).getFirst().text();
        }
        Completion c = client.completions().create(CompletionCreateParams.builder().model("cortado-en-de").prompt(source).build());
        assertEquals(want, c.choices().getFirst().text());
        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<Completion> s = streamingCompletions.completions().createStreaming(CompletionCreateParams.builder()
                .model("cortado-en-de").prompt(source).build())) {
            s.stream().forEach(ch -> ch.choices().forEach(x -> streamed.append(x.text())));
        }
        assertEquals(want, streamed.toString());
        assertFalse(want.isBlank());
    }
}
