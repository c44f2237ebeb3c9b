package dev.cortado.generate;

import java.util.Arrays;
import java.util.List;

/**
 * One generated sequence. {@code ids}: the generated ids only (an EOS id that ended it included; for a stop string,
 * up to the token that completed it). {@code text}: their decoded text without EOS, cut before the stop string.
 * {@code score}: beam search's sequences_score (sum of processed log-probs / generated_length ** length_penalty);
 * for greedy and sampling the sum of the raw log-probs of the chosen tokens. {@code logprobs}: one per generated
 * token when asked for, else empty.
 */
public record GenerationResult(String text, int[] ids, FinishReason finishReason, float score,
                               List<TokenLogprob> logprobs) {
    public GenerationResult {
        ids = ids.clone();
        logprobs = logprobs == null ? List.of() : List.copyOf(logprobs);
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationResult r && java.util.Objects.equals(text, r.text) && Arrays.equals(ids, r.ids)
                && finishReason == r.finishReason && Float.compare(score, r.score) == 0 && logprobs.equals(r.logprobs);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(text, Arrays.hashCode(ids), finishReason, score, logprobs);
    }

    @Override
    public String toString() {
        return "GenerationResult[text=" + text + ", ids=" + Arrays.toString(ids) + ", finishReason=" + finishReason
                + ", score=" + score + "]";
    }
}
