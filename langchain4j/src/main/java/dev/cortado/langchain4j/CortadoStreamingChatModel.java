package dev.cortado.langchain4j;

import dev.cortado.api.ChatCompletionChunk;
import dev.cortado.api.OpenAiService;
import dev.cortado.api.Usage;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * {@link CortadoChatModel}, streamed: each generated token's text goes to
 * {@link StreamingChatResponseHandler#onPartialResponse} as soon as the engine produces it, then
 * {@link StreamingChatResponseHandler#onCompleteResponse} gets the whole reply with its token usage and finish reason;
 * any error (a bad parameter, a prompt longer than the context, an exception thrown by the handler) goes to
 * {@link StreamingChatResponseHandler#onError} instead, once. A reply with tools (unless the tool choice is NONE)
 * arrives whole at the end, its calls as {@code onCompleteToolCall}s. The handle in the partial response's context
 * cancels the request (its KV blocks are freed at the engine's next step; no further callback). Callbacks run on the
 * request's own thread; {@code chat} returns at once.
 */
public final class CortadoStreamingChatModel implements StreamingChatModel, AutoCloseable {
    private final ChatCore core;
    private final List<ChatModelListener> listeners;
    private final boolean ownsModel;

    private CortadoStreamingChatModel(Builder b) {
        this(new ChatCore(b, "CortadoStreamingChatModel"), b.listeners, true);
    }

    /** A view of a {@link CortadoChatModel}'s loaded model ({@link CortadoChatModel#streamingModel()}). */
    CortadoStreamingChatModel(ChatCore core, List<ChatModelListener> listeners, boolean ownsModel) {
        this.core = core;
        this.listeners = listeners;
        this.ownsModel = ownsModel;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        Stream s = new Stream(handler);
        CompletableFuture<Object> f;
        try {
            f = core.call(request, s);
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        s.started(f);
        f.whenComplete(s::finish);
    }

    /** One streamed request: the chunks folded into the final response, the handle that cancels it. */
    private final class Stream implements OpenAiService.Listener, StreamingHandle {
        private final StreamingChatResponseHandler handler;
        private final StringBuilder text = new StringBuilder();
        private final List<ToolExecutionRequest> calls = new ArrayList<>();
        private String id, finish;
        private Usage usage;
        private volatile boolean cancelled;
        private volatile Throwable handlerError;
        private volatile CompletableFuture<Object> future;

        Stream(StreamingChatResponseHandler handler) {
            this.handler = handler;
        }

        void started(CompletableFuture<Object> f) {
            future = f;
            if (cancelled || handlerError != null) f.cancel(true);
        }

        @Override
        public synchronized void chunk(Object o) {
            if (cancelled || handlerError != null || !(o instanceof ChatCompletionChunk c)) return;
            id = c.id();
            if (c.usage() != null) usage = c.usage();
            try {
                for (ChatCompletionChunk.Choice choice : c.choices()) {
                    if (choice.finishReason() != null) finish = choice.finishReason();
                    ChatCompletionChunk.Delta d = choice.delta();
                    if (d == null) continue;
                    if (d.content() != null && !d.content().isEmpty()) {
                        text.append(d.content());
                        handler.onPartialResponse(new PartialResponse(d.content()), new PartialResponseContext(this));
                    }
                    if (d.toolCalls() != null) {
                        for (ChatCompletionChunk.ToolCallDelta t : d.toolCalls()) {
                            ToolExecutionRequest r = ChatMapping.request(t.id(), t.function());
                            calls.add(r);
                            handler.onCompleteToolCall(new CompleteToolCall(t.index(), r));
                        }
                    }
                    if (cancelled) return;
                }
            } catch (RuntimeException e) {
                handlerError = e; // the handler's own failure: stop generating, report it once
                CompletableFuture<Object> f = future;
                if (f != null) f.cancel(true);
            }
        }

        void finish(Object result, Throwable error) {
            Throwable fail = null;
            synchronized (this) {
                if (handlerError != null) fail = handlerError; // the handler's own exception, as it threw it
                else if (cancelled) return; // cancelled through the handle: no further callback
                else if (error != null) fail = ChatCore.cause(error); // e.g. the model closed under the request
                else if (result instanceof Usage u) usage = u;
            }
            if (fail != null) {
                handler.onError(fail);
                return;
            }
            String content = text.isEmpty() && !calls.isEmpty() ? null : text.toString();
            try {
                handler.onCompleteResponse(ChatMapping.response(id, core.name, content, calls, finish, usage));
            } catch (RuntimeException e) {
                handler.onError(e);
            }
        }

        @Override
        public void cancel() {
            cancelled = true;
            CompletableFuture<Object> f = future;
            if (f != null) f.cancel(true);
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return core.defaults;
    }

    @Override
    public List<ChatModelListener> listeners() {
        return listeners;
    }

    @Override
    public Set<Capability> supportedCapabilities() {
        return Set.of(Capability.RESPONSE_FORMAT_JSON_SCHEMA);
    }

    /** The model's name (its folder's, unless the builder set one). */
    public String modelName() {
        return core.name;
    }

    /**
     * Waits for the requests under way to finish, then releases the model; a view made by
     * {@link CortadoChatModel#streamingModel()} leaves it to its chat model.
     */
    @Override
    public void close() {
        if (ownsModel) core.close();
    }

    public static final class Builder extends ChatModelBuilder<Builder> {
        private Builder() {}

        /** Loads the model (and checks the default knobs): fails with one line naming the problem. */
        public CortadoStreamingChatModel build() {
            return new CortadoStreamingChatModel(this);
        }
    }
}
