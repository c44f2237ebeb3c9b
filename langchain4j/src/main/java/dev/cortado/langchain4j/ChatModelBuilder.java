package dev.cortado.langchain4j;

import dev.cortado.device.Device;
import dev.cortado.engine.EngineOptions;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ToolChoice;
import java.nio.file.Path;
import java.util.List;

/**
 * The options both chat models take, LangChain4j style: the model ({@link #modelPath}), where and how it runs
 * ({@link #device}, {@link #kvMemory}), and the default request parameters (each request's own parameters override
 * them; unset ones keep the model's {@code generation_config.json}).
 */
public abstract class ChatModelBuilder<B extends ChatModelBuilder<B>> {
    Path modelPath;
    String modelName;
    Device device = Device.cpu();
    EngineOptions engineOptions = EngineOptions.defaults();
    List<ChatModelListener> listeners = List.of();
    ChatRequestParameters defaultRequestParameters;
    final CortadoChatRequestParameters.Builder knobs = CortadoChatRequestParameters.builder();

    ChatModelBuilder() {}

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** The model folder: config.json, tokenizer.json, tokenizer_config.json (its chat template), safetensors or ONNX. */
    public B modelPath(Path modelPath) {
        this.modelPath = modelPath;
        return self();
    }

    public B modelPath(String modelPath) {
        return modelPath(modelPath == null ? null : Path.of(modelPath));
    }

    /** The model's name in responses (default: the folder's name). */
    public B modelName(String modelName) {
        this.modelName = modelName;
        return self();
    }

    /** {@code Device.cpu()} (default) or {@code Device.cuda(0)}. */
    public B device(Device device) {
        this.device = device == null ? Device.cpu() : device;
        return self();
    }

    /** The serving engine's options (KV pool size, token budget per step, prefix sharing). */
    public B engineOptions(EngineOptions options) {
        this.engineOptions = options == null ? EngineOptions.defaults() : options;
        return self();
    }

    /** The KV cache pool of the serving engine, such as {@code "2g"} or {@code "512m"} (default: sized for the model). */
    public B kvMemory(String size) {
        this.engineOptions = engineOptions.kvMemory(EngineOptions.parseBytes(size));
        return self();
    }

    public B listeners(List<ChatModelListener> listeners) {
        this.listeners = listeners == null ? List.of() : List.copyOf(listeners);
        return self();
    }

    /** Defaults for every request; the knobs set on this builder override these. */
    public B defaultRequestParameters(ChatRequestParameters parameters) {
        this.defaultRequestParameters = parameters;
        return self();
    }

    /** 0 = greedy; default: the model's generation_config.json. */
    public B temperature(Double temperature) {
        knobs.temperature(temperature);
        return self();
    }

    public B topP(Double topP) {
        knobs.topP(topP);
        return self();
    }

    public B topK(Integer topK) {
        knobs.topK(topK);
        return self();
    }

    /** The most tokens a reply may have (LangChain4j's maxOutputTokens). */
    public B maxTokens(Integer maxTokens) {
        knobs.maxOutputTokens(maxTokens);
        return self();
    }

    public B stopSequences(List<String> stop) {
        knobs.stopSequences(stop);
        return self();
    }

    public B seed(Long seed) {
        knobs.seed(seed);
        return self();
    }

    public B minP(Double minP) {
        knobs.minP(minP);
        return self();
    }

    public B repetitionPenalty(Double penalty) {
        knobs.repetitionPenalty(penalty);
        return self();
    }

    public B frequencyPenalty(Double penalty) {
        knobs.frequencyPenalty(penalty);
        return self();
    }

    public B presencePenalty(Double penalty) {
        knobs.presencePenalty(penalty);
        return self();
    }

    public B responseFormat(ResponseFormat format) {
        knobs.responseFormat(format);
        return self();
    }

    public B toolSpecifications(List<ToolSpecification> tools) {
        knobs.toolSpecifications(tools);
        return self();
    }

    public B toolChoice(ToolChoice choice) {
        knobs.toolChoice(choice);
        return self();
    }

    /** The default parameters: {@link #defaultRequestParameters} overridden by this builder's knobs. */
    CortadoChatRequestParameters parameters() {
        CortadoChatRequestParameters set = knobs.build();
        return defaultRequestParameters == null ? set
                : CortadoChatRequestParameters.builder().overrideWith(defaultRequestParameters).overrideWith(set).build();
    }
}
