package dev.cortado.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.TokenLogprob;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A {@code text_completion} object: one choice per prompt × n, prompt-major. */
public record CompletionResponse(String id, String object, long created, String model, List<Choice> choices,
                                 Usage usage) {
    /** {@code tokenIds}: the generated ids, only with {@code return_token_ids: true} (vLLM's extension); else left out. */
    public record Choice(String text, int index, Logprobs logprobs, String finishReason,
                         @JsonInclude(JsonInclude.Include.NON_NULL) int[] tokenIds) {
        public Choice(String text, int index, Logprobs logprobs, String finishReason) {
            this(text, index, logprobs, finishReason, null);
        }
    }

    /** The legacy completions logprobs: per token its text, logprob, top alternatives and character offset. */
    public record Logprobs(List<String> tokens, List<Float> tokenLogprobs, List<Map<String, Float>> topLogprobs,
                           List<Integer> textOffset) {
        static Logprobs of(GenerationResult r, int offset) {
            return of(r.logprobs(), offset);
        }

        /** These tokens' logprobs, the first token's text starting at character {@code offset}. */
        static Logprobs of(List<TokenLogprob> generated, int offset) {
            List<String> tokens = new ArrayList<>();
            List<Float> lps = new ArrayList<>();
            List<Map<String, Float>> tops = new ArrayList<>();
            List<Integer> offsets = new ArrayList<>();
            for (TokenLogprob t : generated) {
                tokens.add(t.text());
                lps.add(t.logprob());
                Map<String, Float> top = new LinkedHashMap<>();
                if (t.top() != null) for (TokenLogprob.Top x : t.top()) top.putIfAbsent(x.text(), x.logprob());
                tops.add(top);
                offsets.add(offset);
                offset += t.text().length();
            }
            return new Logprobs(tokens, lps, tops, offsets);
        }
    }

    /**
     * The response for {@code results} (prompt-major, {@code perPrompt} each); {@code promptChars} are the prompts'
     * lengths, where text offsets start. Logprobs are filled when {@code withLogprobs}.
     */
    public static CompletionResponse of(String id, long created, String model, List<GenerationResult> results,
                                        int perPrompt, int[] promptChars, boolean withLogprobs, Usage usage) {
        return of(id, created, model, results, perPrompt, promptChars, withLogprobs, false, usage);
    }

    /** As above; {@code withTokenIds} adds each choice's generated ids. */
    public static CompletionResponse of(String id, long created, String model, List<GenerationResult> results,
                                        int perPrompt, int[] promptChars, boolean withLogprobs, boolean withTokenIds,
                                        Usage usage) {
        List<Choice> choices = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            GenerationResult r = results.get(i);
            Logprobs lp = withLogprobs ? Logprobs.of(r, promptChars[i / perPrompt]) : null;
            choices.add(new Choice(r.text(), i, lp, ApiJson.finishReason(r.finishReason()), withTokenIds ? r.ids() : null));
        }
        return new CompletionResponse(id, "text_completion", created, model, choices, usage);
    }
}
