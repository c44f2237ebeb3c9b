package dev.cortado.generate;

import dev.cortado.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/** OpenAI-style logprobs from raw logits. */
final class Logprobs {
    private Logprobs() {}

    /** The chosen token's log-softmax of {@code rawLogits} and the {@code topN} best alternatives. */
    static TokenLogprob of(float[] rawLogits, int chosen, int topN, Tokenizer tokenizer) {
        float[] lp = Warpers.logSoftmax(rawLogits);
        List<TokenLogprob.Top> top = new ArrayList<>();
        if (topN > 0) {
            // best first; among equal logprobs the lower id first
            for (int id : dev.cortado.backend.Selection.topK(lp, Math.min(topN, lp.length)))
                top.add(new TokenLogprob.Top(id, text(tokenizer, id), lp[id]));
        }
        return new TokenLogprob(chosen, text(tokenizer, chosen), lp[chosen], top);
    }

    /**
     * The logprobs entry of row {@code row}'s pick from a backend's choices (its raw log-probability and top
     * alternatives): what {@link #of(float[], int, int, Tokenizer)} gives for that row's logits.
     */
    static TokenLogprob of(dev.cortado.backend.Choices c, int row, int chosen, Tokenizer tokenizer) {
        return of(c, row, chosen, c.logprobs()[row], tokenizer);
    }

    /** As above with the chosen token's raw log-probability given (a beam candidate's, from its source row). */
    static TokenLogprob of(dev.cortado.backend.Choices c, int row, int chosen, float logprob, Tokenizer tokenizer) {
        List<TokenLogprob.Top> top = new ArrayList<>();
        for (int i = 0; i < c.topIds()[row].length; i++) {
            int id = c.topIds()[row][i];
            top.add(new TokenLogprob.Top(id, text(tokenizer, id), c.topLogprobs()[row][i]));
        }
        return new TokenLogprob(chosen, text(tokenizer, chosen), logprob, top);
    }

    static float of(float[] rawLogits, int chosen) {
        return dev.cortado.backend.HostChoice.logprob(rawLogits, 0, rawLogits.length, chosen);
    }

    private static String text(Tokenizer tokenizer, int id) {
        return tokenizer == null ? null : tokenizer.decode(new int[] {id}, false);
    }
}
