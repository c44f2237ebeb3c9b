package dev.cortado.langchain4j;

import static dev.cortado.langchain4j.Direct.msg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.engine.Completion;
import dev.cortado.generate.constraint.Constraint;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.json.JsonRawSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CortadoChatModel} through LangChain4j's own API ({@code ChatModel.chat}) against Cortado used directly
 * ({@link Direct}) on the same model, stories260K with TinyLlama's chat template: the same reply text and token counts
 * (greedy, seeded sampling with every knob, stop sequences, JSON-schema structured output), the finish reason, and the
 * token usage.
 */
class CortadoChatModelTest {
    @TempDir static Path tmp;
    static Path dir;
    static Direct direct;
    static CortadoChatModel model;

    @BeforeAll
    static void open() throws Exception {
        dir = Fixtures.chatModel(tmp);
        direct = new Direct(dir);
        model = CortadoChatModel.builder().modelPath(dir).build();
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
        if (direct != null) direct.close();
    }

    static void assertSame(Completion want, ChatResponse got) {
        assertEquals(want.results().getFirst().text(), got.aiMessage().text());
        assertEquals(want.promptTokens(), got.tokenUsage().inputTokenCount());
        assertEquals(want.completionTokens(), got.tokenUsage().outputTokenCount());
        assertEquals(want.promptTokens() + want.completionTokens(), got.tokenUsage().totalTokenCount());
        assertEquals(Direct.finish(want), got.finishReason());
        assertEquals("stories-chat", got.modelName());
    }

    @Test
    void greedyRepliesMatchDirect() {
        ChatResponse r = model.chat(ChatRequest.builder()
                .messages(SystemMessage.from("You tell stories."), UserMessage.from("Tell me about a cat."))
                .temperature(0.0).maxOutputTokens(40).build());
        Completion want = direct.chat(List.of(msg("system", "You tell stories."), msg("user", "Tell me about a cat.")),
                direct.greedy(40));
        assertSame(want, r);
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals(40, r.tokenUsage().outputTokenCount());

        // a conversation: the earlier AI turn goes back through the template
        ChatResponse turn = model.chat(ChatRequest.builder()
                .messages(UserMessage.from("Once upon a time"), AiMessage.from("there was a dog named Max."),
                        UserMessage.from("What did Max do?"))
                .temperature(0.0).maxOutputTokens(100).build());
        Completion want2 = direct.chat(List.of(msg("user", "Once upon a time"), msg("assistant", "there was a dog named Max."),
                msg("user", "What did Max do?")), direct.greedy(100));
        assertSame(want2, turn);
    }

    @Test
    void seededSamplingWithEveryKnobMatchesDirect() {
        CortadoChatRequestParameters p = CortadoChatRequestParameters.builder().temperature(0.9).topK(40).topP(0.95)
                .minP(0.01).repetitionPenalty(1.1).frequencyPenalty(0.2).presencePenalty(0.1).seed(7L)
                .maxOutputTokens(48).build();
        ChatResponse r = model.chat(ChatRequest.builder().messages(UserMessage.from("Tell me a story.")).parameters(p).build());
        Completion want = direct.chat(List.of(msg("user", "Tell me a story.")), direct.rt.generationConfig().doSample(true)
                .temperature(0.9f).topK(40).topP(0.95f).minP(0.01f).repetitionPenalty(1.1f).frequencyPenalty(0.2f)
                .presencePenalty(0.1f).seed(7).maxNewTokens(48));
        assertSame(want, r);
        // another seed, another story (the seed does reach the sampler)
        ChatResponse other = model.chat(ChatRequest.builder().messages(UserMessage.from("Tell me a story."))
                .parameters(CortadoChatRequestParameters.builder().overrideWith(p).seed(8L).build()).build());
        assertTrue(!other.aiMessage().text().equals(r.aiMessage().text()), other.aiMessage().text());
    }

    @Test
    void stopSequencesAndBuilderDefaults() {
        try (CortadoChatModel m = CortadoChatModel.builder().modelPath(dir).temperature(0.0).maxTokens(60)
                .stopSequences(List.of(".")).build()) {
            String reply = m.chat("Tell me about a bird.");
            Completion want = direct.chat(List.of(msg("user", "Tell me about a bird.")), direct.greedy(60).stopStrings("."));
            assertEquals(want.results().getFirst().text(), reply);
            assertEquals(FinishReason.STOP, Direct.finish(want), "the reference stopped at '.'");
            // a request's own parameters win over the builder's
            ChatResponse longer = m.chat(ChatRequest.builder().messages(UserMessage.from("Tell me about a bird."))
                    .stopSequences(List.of("zzz")).maxOutputTokens(30).build());
            assertSame(direct.chat(List.of(msg("user", "Tell me about a bird.")), direct.greedy(30).stopStrings("zzz")), longer);
        }
    }

    @Test
    void jsonSchemaResponseFormatIsStructuredOutput() throws Exception {
        String schema = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":12},"
                + "\"age\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":120}},\"required\":[\"name\",\"age\"]}";
        ChatResponse r = model.chat(ChatRequest.builder().messages(UserMessage.from("Who is Lily?"))
                .responseFormat(ResponseFormat.builder().type(ResponseFormatType.JSON)
                        .jsonSchema(JsonSchema.builder().name("person").rootElement(JsonRawSchema.from(schema)).build()).build())
                .temperature(0.0).maxOutputTokens(100).build());
        Completion want = direct.chat(List.of(msg("user", "Who is Lily?")), direct.greedy(100).constraint(Constraint.jsonSchema(schema)));
        assertSame(want, r);
        JsonNode person = Fixtures.M.readTree(r.aiMessage().text());
        assertTrue(person.get("name").isTextual() && person.get("name").asText().length() <= 12, person.toString());
        int age = person.get("age").asInt();
        assertTrue(person.get("age").isInt() && age >= 0 && age <= 120, person.toString());
        // JSON without a schema: any JSON object
        ChatResponse any = model.chat(ChatRequest.builder().messages(UserMessage.from("Who is Lily?"))
                .responseFormat(ResponseFormat.JSON).temperature(0.0).maxOutputTokens(60).build());
        assertSame(direct.chat(List.of(msg("user", "Who is Lily?")), direct.greedy(60).constraint(Constraint.jsonObject())), any);
    }

    @Test
    void concurrentChatsAreBatchedAndEachMatchesItsSequentialReply() throws Exception {
        List<String> prompts = List.of("A cat", "A dog", "The sun", "A big tree", "Tom and Sue", "The sea");
        List<String> sequential = prompts.stream().map(q -> model.chat(ChatRequest.builder().messages(UserMessage.from(q))
                .temperature(0.0).maxOutputTokens(32).build()).aiMessage().text()).toList();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(prompts.size());
        try {
            var futures = prompts.stream().map(q -> pool.submit(() -> model.chat(ChatRequest.builder()
                    .messages(UserMessage.from(q)).temperature(0.0).maxOutputTokens(32).build()).aiMessage().text())).toList();
            for (int i = 0; i < prompts.size(); i++) assertEquals(sequential.get(i), futures.get(i).get());
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void listenersSeeTheMergedRequestAndTheResponse() {
        List<Object> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        var listener = new dev.langchain4j.model.chat.listener.ChatModelListener() {
            @Override
            public void onRequest(dev.langchain4j.model.chat.listener.ChatModelRequestContext c) {
                seen.add(c.chatRequest().parameters().temperature());
                seen.add(c.chatRequest().parameters().maxOutputTokens());
            }

            @Override
            public void onResponse(dev.langchain4j.model.chat.listener.ChatModelResponseContext c) {
                seen.add(c.chatResponse().tokenUsage().outputTokenCount());
            }

            @Override
            public void onError(dev.langchain4j.model.chat.listener.ChatModelErrorContext c) {
                seen.add(c.error().getMessage());
            }
        };
        try (CortadoChatModel m = CortadoChatModel.builder().modelPath(dir).temperature(0.0).maxTokens(7)
                .listeners(List.of(listener)).build()) {
            m.chat("Hi");
            assertEquals(List.of(0.0, 7, 7), seen);
            seen.clear();
            assertThrows(dev.cortado.CortadoException.class, () -> m.chat(ChatRequest.builder()
                    .messages(UserMessage.from("Hi")).topP(0.0).build()));
            assertEquals(3, seen.size());
            assertTrue(((String) seen.get(2)).contains("top_p = 0"), seen.toString());
        }
    }

    @Test
    void noTokenUsageIsMissingAndNoToolCallsWithoutTools() {
        ChatResponse r = model.chat(ChatRequest.builder().messages(UserMessage.from("Hi")).temperature(0.0)
                .maxOutputTokens(5).build());
        assertTrue(!r.aiMessage().hasToolExecutionRequests());
        assertTrue(r.id().startsWith("chatcmpl-"), r.id());
        assertNull(r.aiMessage().thinking());
    }
}
