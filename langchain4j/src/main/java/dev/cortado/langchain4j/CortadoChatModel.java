package dev.cortado.langchain4j;

import dev.cortado.CortadoException;
import dev.cortado.api.ChatCompletionResponse;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A Cortado text generation model (Llama, Mistral, Qwen2/3, GPT-2, … as HF safetensors or an Optimum ONNX export)
 * as a LangChain4j {@link ChatModel}.
 *
 * <pre>{@code
 * try (CortadoChatModel model = CortadoChatModel.builder().modelPath(Path.of("Qwen2.5-0.5B-Instruct"))
 *         .temperature(0.0).maxTokens(256).build()) {
 *     String answer = model.chat("Why is the sky blue?");
 * }
 * }</pre>
 * The messages are rendered with the model folder's chat template ({@code tokenizer_config.json}) and the reply is
 * generated on the model's serving engine, so one instance shared by many threads batches their requests
 * (continuous batching). Parameters ({@code ChatRequestParameters}, or {@link CortadoChatRequestParameters} for
 * {@code seed}, {@code minP}, {@code repetitionPenalty}) map onto Cortado's generation knobs as the OpenAI-compatible
 * server maps them; tool specifications become tool calling (the template must take tools) and a JSON
 * {@code responseFormat} becomes structured output (the reply is constrained to the schema). The response carries
 * the token usage and the finish reason (STOP, LENGTH, TOOL_EXECUTION). {@link #close()} releases the model.
 */
public final class CortadoChatModel implements ChatModel, AutoCloseable {
    private final ChatCore core;
    private final List<ChatModelListener> listeners;

    private CortadoChatModel(Builder b) {
        this.core = new ChatCore(b, "CortadoChatModel");
        this.listeners = b.listeners;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        CompletableFuture<Object> f = core.call(request, null);
        try {
            return ChatMapping.response((ChatCompletionResponse) f.get());
        } catch (InterruptedException e) {
            f.cancel(true); // the engine frees the request's KV blocks at its next step
            Thread.currentThread().interrupt();
            throw new CortadoException("interrupted while generating; the request was cancelled");
        } catch (ExecutionException e) {
            throw ChatCore.unwrap(e);
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

    /**
     * The same loaded model as a {@link CortadoStreamingChatModel} (one engine, one KV pool; the same default
     * parameters and listeners). Closing this chat model closes it too; closing the view does nothing.
     */
    public CortadoStreamingChatModel streamingModel() {
        return new CortadoStreamingChatModel(core, listeners, false);
    }

    /** The model's name (its folder's, unless the builder set one). */
    public String modelName() {
        return core.name;
    }

    /** Waits for the requests under way to finish, then releases the model (its engine, KV pool and weights). */
    @Override
    public void close() {
        core.close();
    }

    public static final class Builder extends ChatModelBuilder<Builder> {
        private Builder() {}

        /** Loads the model (and checks the default knobs): fails with one line naming the problem. */
        public CortadoChatModel build() {
            return new CortadoChatModel(this);
        }
    }
}
