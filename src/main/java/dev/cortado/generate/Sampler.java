package dev.cortado.generate;

/** Token choice from processed scores: greedy argmax, or a seeded draw by inverse CDF. */
public final class Sampler {
    private Sampler() {}

    /** Index of the largest score; the first one on ties (as torch.argmax). */
    public static int argmax(float[] scores) {
        int best = 0;
        for (int i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
        return best;
    }

    /**
     * Draws a token: p = softmax(scores) in double; u = rng.nextDouble(); the first id (in id order) whose
     * cumulative probability exceeds u * sum(p). Tokens with -inf scores are never drawn.
     */
    public static int sample(float[] scores, Xoshiro256 rng) {
        double max = Double.NEGATIVE_INFINITY;
        for (float s : scores) max = Math.max(max, s);
        if (max == Double.NEGATIVE_INFINITY) return argmax(scores);
        double[] p = new double[scores.length];
        double sum = 0;
        for (int i = 0; i < scores.length; i++) sum += p[i] = Math.exp(scores[i] - max);
        double u = rng.nextDouble() * sum;
        double acc = 0;
        int lastPositive = -1;
        for (int i = 0; i < p.length; i++) {
            if (p[i] <= 0) continue;
            acc += p[i];
            lastPositive = i;
            if (u < acc) return i;
        }
        return lastPositive;
    }
}
