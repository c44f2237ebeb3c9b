package dev.cortado.langchain4j;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.api.ChatRequest;
import dev.cortado.api.OpenAiService;
import dev.cortado.api.ServedModel;
import dev.langchain4j.data.message.UserMessage;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** What both chat models hold: the model on its serving engine, the OpenAI chat endpoint over it, the defaults. */
final class ChatCore implements AutoCloseable {
    final ServedModel served;
    final OpenAiService service;
    final String name;
    final CortadoChatRequestParameters defaults;
    private volatile boolean closed;

    ChatCore(ChatModelBuilder<?> b, String who) {
        this.defaults = b.parameters();
        java.nio.file.Path path = ServedModels.require(b.modelPath, who);
        this.name = b.modelName != null ? b.modelName : ServedModels.nameOf(path);
        // nonsense default knobs fail here, with the request's own checks, before the model is loaded
        ChatRequest.parse(ChatMapping.body(dev.langchain4j.model.chat.request.ChatRequest.builder()
                .messages(UserMessage.from("check")).parameters(defaults).build(), name), true);
        this.served = ServedModels.decoder(path, name, b.device, b.engineOptions);
        this.service = new OpenAiService(served, true);
    }

    /** Starts a chat completion of {@code request} (its parameters already merged with the defaults). */
    CompletableFuture<Object> call(dev.langchain4j.model.chat.request.ChatRequest request, OpenAiService.Listener listener) {
        if (closed) throw new CortadoException("the chat model '" + name + "' is closed; build a new one");
        ObjectNode body = ChatMapping.body(request, name);
        if (listener != null) {
            body.put("stream", true);
            body.putObject("stream_options").put("include_usage", true);
        }
        return service.call(ChatRequest.URL, body, listener);
    }

    /** The error a failed future carries (a cancellation as one line saying so). */
    static Throwable cause(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) t = t.getCause();
        if (t instanceof CancellationException) return new CortadoException("the chat request was cancelled");
        return t;
    }

    /** {@link #cause} as one unchecked exception, to throw. */
    static RuntimeException unwrap(Throwable t) {
        Throwable c = cause(t);
        if (c instanceof RuntimeException r) return r;
        if (c instanceof Error e) throw e;
        return new CortadoException(c.getClass().getSimpleName() + ": " + c.getMessage(), c);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        served.close();
    }
}
