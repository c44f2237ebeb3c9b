package dev.cortado.api;

import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.TokenLogprob;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A {@code chat.completion} object: n assistant messages. */
public record ChatCompletionResponse(String id, String object, long created, String model, List<Choice> choices,
                                     Usage usage) {
    public record Choice(int index, Message message, Logprobs logprobs, String finishReason) {}

    public record Message(String role, String content) {}

    /** Chat logprobs: one entry per generated token, with its top alternatives. */
    public record Logprobs(List<Token> content) {}

    public record Token(String token, float logprob, int[] bytes, List<Top> topLogprobs) {}

    public record Top(String token, float logprob, int[] bytes) {}

    public static ChatCompletionResponse of(String id, long created, String model, List<GenerationResult> results,
                                            boolean withLogprobs, Usage usage) {
        List<Choice> choices = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            GenerationResult r = results.get(i);
            Logprobs lp = withLogprobs ? logprobs(r.logprobs()) : null;
            choices.add(new Choice(i, new Message("assistant", r.text()), lp, ApiJson.finishReason(r.finishReason())));
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
