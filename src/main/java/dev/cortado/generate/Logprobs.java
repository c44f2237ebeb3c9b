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
            Integer[] order = Warpers.ascending(lp);
            // best first; among equal logprobs the lower id first
            List<Integer> best = new ArrayList<>();
            for (int i = order.length - 1; i >= 0; i--) best.add(order[i]);
            best.sort((a, b) -> lp[a] != lp[b] ? Float.compare(lp[b], lp[a]) : Integer.compare(a, b));
            for (int i = 0; i < Math.min(topN, best.size()); i++) {
                int id = best.get(i);
                top.add(new TokenLogprob.Top(id, text(tokenizer, id), lp[id]));
            }
        }
        return new TokenLogprob(chosen, text(tokenizer, chosen), lp[chosen], top);
    }

    /** {@code Warpers.logSoftmax(rawLogits)[chosen]}, the same arithmetic without the vocabulary-sized array. */
    static float of(float[] rawLogits, int chosen) {
        return (float) (rawLogits[chosen] - Warpers.logSumExp(rawLogits));
    }

    private static String text(Tokenizer tokenizer, int id) {
        return tokenizer == null ? null : tokenizer.decode(new int[] {id}, false);
    }
}
