package dev.cortado.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.TokenLogprob;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A {@code chat.completion} object: n assistant messages. */
public record ChatCompletionResponse(String id, String object, long created, String model, List<Choice> choices,
                                     Usage usage) {
    public record Choice(int index, Message message, Logprobs logprobs, String finishReason) {}

    /** The assistant's reply: its text (null when it is only tool calls) and the tool calls parsed out of it. */
    public record Message(String role, String content,
                          @JsonInclude(JsonInclude.Include.NON_EMPTY) List<ToolCall> toolCalls) {}

    /** An OpenAI tool call: {@code arguments} is the JSON object of the arguments, as a string. */
    public record ToolCall(String id, String type, FunctionCall function) {}

    public record FunctionCall(String name, String arguments) {}

    /** What one generated result becomes: content, tool calls (null: none) and the finish reason. */
    public record Reply(String content, List<ToolCall> toolCalls, String finishReason) {
        /** Plain text: no tool calls. */
        public static Reply text(GenerationResult r) {
            return new Reply(r.text(), null, ApiJson.finishReason(r.finishReason()));
        }
    }

    /** Chat logprobs: one entry per generated token, with its top alternatives. */
    public record Logprobs(List<Token> content) {}

    public record Token(String token, float logprob, int[] bytes, List<Top> topLogprobs) {}

    public record Top(String token, float logprob, int[] bytes) {}

    public static ChatCompletionResponse of(String id, long created, String model, List<GenerationResult> results,
                                            boolean withLogprobs, Usage usage) {
        return of(id, created, model, results, withLogprobs, usage, Reply::text);
    }

    /** {@code replies} turns each result into its message (tool calls parsed out). */
    public static ChatCompletionResponse of(String id, long created, String model, List<GenerationResult> results,
                                            boolean withLogprobs, Usage usage,
                                            java.util.function.Function<GenerationResult, Reply> replies) {
        List<Choice> choices = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            GenerationResult r = results.get(i);
            Logprobs lp = withLogprobs ? logprobs(r.logprobs()) : null;
            Reply reply = replies.apply(r);
            choices.add(new Choice(i, new Message("assistant", reply.content(), reply.toolCalls()), lp, reply.finishReason()));
        }
        return new ChatCompletionResponse(id, "chat.completion", created, model, choices, usage);
    }

    /** The chat logprobs of these generated tokens. */
    static Logprobs logprobs(List<TokenLogprob> tokens) {
        List<Token> toks = new ArrayList<>();
        for (TokenLogprob t : tokens) {
            List<Top> top = new ArrayList<>();
            if (t.top() != null) for (TokenLogprob.Top x : t.top()) top.add(new Top(x.text(), x.logprob(), bytes(x.text())));
            toks.add(new Token(t.text(), t.logprob(), bytes(t.text()), top));
        }
        return new Logprobs(toks);
    }

    private static int[] bytes(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) out[i] = b[i] & 0xff;
        return out;
    }
}
