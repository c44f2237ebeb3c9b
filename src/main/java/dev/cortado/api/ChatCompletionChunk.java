package dev.cortado.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One {@code chat.completion.chunk} of a streamed chat completion: a choice's {@code delta} (the role on its first
 * chunk, then content), its logprobs when asked for, and its {@code finish_reason} on its last chunk; with
 * {@code stream_options.include_usage} a last chunk with no choices carries the usage.
 */
public record ChatCompletionChunk(String id, String object, long created, String model, List<Choice> choices,
                                  Usage usage) {
    public record Choice(int index, Delta delta, ChatCompletionResponse.Logprobs logprobs, String finishReason) {}

    /** The new part of the assistant message; absent fields are left out (OpenAI sends the role once). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Delta(String role, String content, List<ToolCallDelta> toolCalls) {
        public Delta(String role, String content) {
            this(role, content, null);
        }
    }

    /** A streamed tool call: its position in the message's {@code tool_calls}, then the call (sent whole). */
    public record ToolCallDelta(int index, String id, String type, ChatCompletionResponse.FunctionCall function) {}

    static ChatCompletionChunk of(String id, long created, String model, Choice choice) {
        return new ChatCompletionChunk(id, "chat.completion.chunk", created, model, List.of(choice), null);
    }

    static ChatCompletionChunk usage(String id, long created, String model, Usage usage) {
        return new ChatCompletionChunk(id, "chat.completion.chunk", created, model, List.of(), usage);
    }
}
