package dev.cortado.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.SystemMessage;
import dev.langchain4j.service.TokenStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LangChain4j {@link AiServices} over Cortado: a plain interface on {@link CortadoChatModel} and a streaming one
 * ({@link TokenStream}) on {@link CortadoStreamingChatModel}; the streamed pieces put together are the non-streamed
 * reply, with the same finish reason and token usage. Errors, cancellation and a failing handler end a stream with
 * one {@code onError} (or nothing, when cancelled) and leave the engine serving.
 */
class AiServicesStreamingTest {
    @TempDir static Path tmp;
    static CortadoChatModel chat;
    static CortadoStreamingChatModel streaming;

    interface Assistant {
        @SystemMessage("You tell short stories.")
        String chat(String message);
    }

    interface StreamingAssistant {
        @SystemMessage("You tell short stories.")
        TokenStream chat(String message);
    }

    enum Feeling { HAPPY, SAD, SCARED }

    record Verdict(Feeling feeling, boolean sure, int stars) {}

    interface Judge {
        Verdict judge(String story);
    }

    @BeforeAll
    static void open() throws Exception {
        Path dir = Fixtures.chatModel(tmp);
        chat = CortadoChatModel.builder().modelPath(dir).temperature(0.0).maxTokens(60).build();
        streaming = CortadoStreamingChatModel.builder().modelPath(dir).temperature(0.0).maxTokens(60).build();
    }

    @AfterAll
    static void close() {
        if (chat != null) chat.close();
        if (streaming != null) streaming.close();
    }

    record Streamed(String text, int pieces, ChatResponse response) {}

    static Streamed collect(TokenStream stream) throws Exception {
        StringBuilder sb = new StringBuilder();
        AtomicInteger pieces = new AtomicInteger();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        stream.onPartialResponse(p -> {
            sb.append(p);
            pieces.incrementAndGet();
        }).onCompleteResponse(done::complete).onError(done::completeExceptionally).start();
        ChatResponse r = done.get(60, TimeUnit.SECONDS);
        return new Streamed(sb.toString(), pieces.get(), r);
    }

    @Test
    void streamedTokensAddUpToTheNonStreamedReply() throws Exception {
        Assistant assistant = AiServices.builder(Assistant.class).chatModel(chat).build();
        StreamingAssistant streamer = AiServices.builder(StreamingAssistant.class).streamingChatModel(streaming).build();
        for (String q : List.of("Tell me about a frog.", "Once upon a time there was a king.")) {
            String whole = assistant.chat(q);
            Streamed s = collect(streamer.chat(q));
            assertEquals(whole, s.text());
            assertEquals(whole, s.response().aiMessage().text());
            assertTrue(s.pieces() > 10, "one piece per token, got " + s.pieces());
            ChatResponse direct = chat.chat(ChatRequest.builder().messages(
                    dev.langchain4j.data.message.SystemMessage.from("You tell short stories."), UserMessage.from(q)).build());
            assertEquals(direct.aiMessage().text(), whole);
            assertEquals(direct.tokenUsage(), s.response().tokenUsage());
            assertEquals(direct.finishReason(), s.response().finishReason());
            assertEquals(FinishReason.LENGTH, s.response().finishReason());
        }
    }

    @Test
    void aViewOfTheChatModelStreamsTheSameReply() throws Exception {
        StreamingAssistant streamer = AiServices.builder(StreamingAssistant.class).streamingChatModel(chat.streamingModel()).build();
        String whole = AiServices.builder(Assistant.class).chatModel(chat).build().chat("A bird sang.");
        assertEquals(whole, collect(streamer.chat("A bird sang.")).text());
    }

    @Test
    void aRecordReturnTypeIsStructuredOutput() {
        // AiServices sees RESPONSE_FORMAT_JSON_SCHEMA and sends the record's schema: the reply must parse into it
        Judge judge = AiServices.builder(Judge.class).chatModel(chat).build();
        Verdict v = judge.judge("Lily lost her ball and cried.");
        assertNotNull(v.feeling());
        Verdict again = judge.judge("Lily lost her ball and cried.");
        assertEquals(v, again); // greedy
    }

    /** A handler that records everything it is told. */
    static class Recorder implements StreamingChatResponseHandler {
        final List<String> pieces = new CopyOnWriteArrayList<>();
        final CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        final AtomicInteger errors = new AtomicInteger();

        @Override
        public void onPartialResponse(String partial) {
            pieces.add(partial);
        }

        @Override
        public void onCompleteResponse(ChatResponse response) {
            done.complete(response);
        }

        @Override
        public void onError(Throwable error) {
            errors.incrementAndGet();
            done.completeExceptionally(error);
        }

        Throwable error() throws Exception {
            try {
                done.get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                return e.getCause();
            }
            throw new AssertionError("no error; the reply was " + done.get().aiMessage().text());
        }
    }

    @Test
    void badRequestsEndTheStreamWithOneError() throws Exception {
        Recorder r = new Recorder();
        streaming.chat(ChatRequest.builder().messages(UserMessage.from("Hi")).maxOutputTokens(100_000).build(), r);
        Throwable e = r.error();
        assertInstanceOf(CortadoException.class, e);
        assertTrue(e.getMessage().contains("exceed the model's context"), e.getMessage());
        Recorder bad = new Recorder();
        streaming.chat(ChatRequest.builder().messages(UserMessage.from("Hi")).topP(0.0).build(), bad);
        assertTrue(bad.error().getMessage().contains("top_p = 0"), bad.error().getMessage());
        Thread.sleep(100);
        assertEquals(1, r.errors.get());
        assertTrue(r.pieces.isEmpty());
    }

    @Test
    void aFailingHandlerGetsItsOwnErrorOnceAndTheEngineGoesOn() throws Exception {
        RuntimeException boom = new IllegalStateException("handler failed");
        AtomicInteger partials = new AtomicInteger();
        Recorder r = new Recorder() {
            @Override
            public void onPartialResponse(String partial) {
                if (partials.incrementAndGet() == 3) throw boom;
            }
        };
        streaming.chat(ChatRequest.builder().messages(UserMessage.from("Tell me a story.")).build(), r);
        assertEquals(boom, r.error());
        Thread.sleep(200);
        assertEquals(3, partials.get(), "no piece after the handler failed");
        assertEquals(1, r.errors.get());
        // the engine still serves
        Recorder next = new Recorder();
        streaming.chat(ChatRequest.builder().messages(UserMessage.from("Tell me a story.")).build(), next);
        assertNotNull(next.done.get(60, TimeUnit.SECONDS).aiMessage().text());
    }

    @Test
    void closingTheModelWaitsForTheStreamUnderWay() throws Exception {
        CortadoStreamingChatModel own = CortadoStreamingChatModel.builder().modelPath(Fixtures.chatModel(Path.of(tmp + "-close")))
                .temperature(0.0).maxTokens(100).stopSequences(List.of("zzz")).build();
        CompletableFuture<Void> first = new CompletableFuture<>();
        Recorder r = new Recorder() {
            @Override
            public void onPartialResponse(String partial) {
                first.complete(null);
            }
        };
        own.chat(ChatRequest.builder().messages(UserMessage.from("Tell me a long story.")).build(), r);
        first.get(60, TimeUnit.SECONDS);
        own.close(); // returns once the request under way is done
        assertTrue(r.done.isDone());
        assertEquals(100, r.done.get().tokenUsage().outputTokenCount());
        Recorder late = new Recorder();
        own.chat(ChatRequest.builder().messages(UserMessage.from("Hi")).build(), late);
        assertTrue(late.error().getMessage().contains("is closed"), late.error().getMessage());
    }

    @Test
    void cancellingFromTheHandleStopsTheStream() throws Exception {
        AtomicInteger partials = new AtomicInteger();
        CompletableFuture<Void> cancelled = new CompletableFuture<>();
        Recorder r = new Recorder() {
            @Override
            public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
                if (partials.incrementAndGet() == 2) {
                    context.streamingHandle().cancel();
                    assertTrue(context.streamingHandle().isCancelled());
                    cancelled.complete(null);
                }
            }
        };
        streaming.chat(ChatRequest.builder().messages(UserMessage.from("Tell me a story.")).build(), r);
        cancelled.get(60, TimeUnit.SECONDS);
        Thread.sleep(300);
        assertEquals(2, partials.get());
        assertTrue(!r.done.isDone(), "no completion or error after cancel");
        Recorder next = new Recorder();
        streaming.chat(ChatRequest.builder().messages(UserMessage.from("Tell me a story.")).build(), next);
        assertEquals(chat.chat("Tell me a story."), next.done.get(60, TimeUnit.SECONDS).aiMessage().text());
    }
}
