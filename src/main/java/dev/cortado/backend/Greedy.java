package dev.cortado.backend;

/**
 * Greedy picks of a logits batch [rows, vocab] ({@link Backend#greedy}): per row the argmax id (the first index of
 * the maximum, as torch.argmax) and its log-softmax value, so a greedy step returns ids and scores instead of logits.
 */
public record Greedy(int[] ids, float[] logprobs) {

    /**
     * The host computation every backend matches: argmax by strict {@code >} from index 0, log-softmax in double
     * (max, Σ exp(x − max), x − (max + log Σ)) as the generation code computes it.
     */
    public static Greedy ofHost(float[] logits, int rows, int vocab) {
        int[] ids = new int[rows];
        float[] lps = new float[rows];
        for (int r = 0; r < rows; r++) {
            int o = r * vocab, best = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < vocab; i++) {
                float v = logits[o + i];
                if (v > logits[o + best]) best = i;
                max = Math.max(max, v);
            }
            double sum = 0;
            for (int i = 0; i < vocab; i++) sum += Math.exp(logits[o + i] - max);
            ids[r] = best;
            lps[r] = (float) (logits[o + best] - (max + Math.log(sum)));
        }
        return new Greedy(ids, lps);
    }
}
