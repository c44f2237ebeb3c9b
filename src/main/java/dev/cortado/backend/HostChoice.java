package dev.cortado.backend;

import java.util.function.DoubleSupplier;

/**
 * The CPU implementation of {@link TokenChoice} on host logits, and the reference every backend is compared with:
 * the arithmetic the generation code has always used (log-softmax in double, argmax by strict {@code >} from index
 * 0, inverse-CDF draw in double, beam candidates as float sums), so tokens are bit-identical to it.
 */
public final class HostChoice {
    private HostChoice() {}

    public static Choices choose(float[] logits, int rows, int vocab, TokenChoice c) {
        if ((long) rows * vocab != logits.length)
            throw new IllegalArgumentException(logits.length + " logits are not " + rows + " rows of " + vocab);
        int[][] topIds = c.topLogprobs() >= 0 ? new int[rows][] : null;
        float[][] topLps = c.topLogprobs() >= 0 ? new float[rows][] : null;
        if (topIds != null) {
            for (int r = 0; r < rows; r++) {
                if (!c.isActive(r)) continue;
                float[] lp = logSoftmax(logits, r * vocab, vocab);
                int n = Math.min(c.topLogprobs(), vocab);
                topIds[r] = Selection.topK(lp, 0, vocab, n);
                topLps[r] = new float[n];
                for (int j = 0; j < n; j++) topLps[r][j] = lp[topIds[r][j]];
            }
        }
        return c.mode() == TokenChoice.Mode.BEAM ? beams(logits, rows, vocab, c, topIds, topLps)
                : rows(logits, rows, vocab, c, topIds, topLps);
    }

    private static Choices rows(float[] logits, int rows, int vocab, TokenChoice c, int[][] topIds, float[][] topLps) {
        int[] ids = new int[rows];
        float[] lps = new float[rows];
        for (int r = 0; r < rows; r++) {
            if (!c.isActive(r)) {
                ids[r] = -1;
                lps[r] = Float.NaN;
                continue;
            }
            float[] scores = java.util.Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab);
            if (c.processors() != null) c.processors().process(r, scores);
            int id = c.mode() == TokenChoice.Mode.SAMPLE ? sample(scores, c.uniforms().apply(r)) : argmax(scores);
            ids[r] = id;
            lps[r] = logprob(logits, r * vocab, vocab, id);
        }
        return new Choices(ids, lps, null, null, topIds, topLps);
    }

    private static Choices beams(float[] logits, int rows, int vocab, TokenChoice c, int[][] topIds, float[][] topLps) {
        int beams = c.beams(), k = c.candidates();
        if (rows % beams != 0) throw new IllegalArgumentException(rows + " rows are not groups of " + beams + " beams");
        if (k > beams * vocab) throw new IllegalArgumentException(k + " candidates of " + beams * vocab);
        int groups = rows / beams;
        int[] ids = new int[groups * k], sources = new int[groups * k];
        float[] scores = new float[groups * k], lps = new float[groups * k];
        float[] cand = new float[beams * vocab], lp = new float[vocab];   // scratch, reused across groups and beams
        for (int g = 0; g < groups; g++) {
            if (!c.isActive(g * beams)) {
                java.util.Arrays.fill(ids, g * k, (g + 1) * k, -1);
                java.util.Arrays.fill(sources, g * k, (g + 1) * k, -1);
                java.util.Arrays.fill(scores, g * k, (g + 1) * k, Float.NaN);
                java.util.Arrays.fill(lps, g * k, (g + 1) * k, Float.NaN);
                continue;
            }
            for (int b = 0; b < beams; b++) {
                int r = g * beams + b;
                logSoftmax(logits, r * vocab, vocab, lp);
                if (c.processors() != null) c.processors().process(r, lp);
                float run = c.beamScores()[r];
                for (int v = 0; v < vocab; v++) cand[b * vocab + v] = lp[v] + run;
            }
            int[] top = Selection.topK(cand, 0, cand.length, k);
            for (int j = 0; j < k; j++) {
                int at = g * k + j, beam = top[j] / vocab, tok = top[j] % vocab;
                ids[at] = tok;
                sources[at] = beam;
                scores[at] = cand[top[j]];
                lps[at] = logprob(logits, (g * beams + beam) * vocab, vocab, tok);
            }
        }
        return new Choices(ids, lps, sources, scores, topIds, topLps);
    }

    /** Index of the largest score; the first one on ties (as torch.argmax). */
    public static int argmax(float[] scores) {
        int best = 0;
        for (int i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
        return best;
    }

    /**
     * Draws a token: p = softmax(scores) in double; u = rng() · sum(p); the first id (in id order) whose cumulative
     * probability exceeds u. Tokens with -inf scores are never drawn; a row of only -inf takes argmax and draws nothing.
     */
    public static int sample(float[] scores, DoubleSupplier rng) {
        double max = Double.NEGATIVE_INFINITY;
        for (float s : scores) max = Math.max(max, s);
        if (max == Double.NEGATIVE_INFINITY) return argmax(scores);
        double[] p = new double[scores.length];
        double sum = 0;
        for (int i = 0; i < scores.length; i++) sum += p[i] = Math.exp(scores[i] - max);
        double u = rng.getAsDouble() * sum;
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

    /** log-softmax of x[from, from + n): max and Σ exp(x − max) in double, each value (float) (x − (max + log Σ)). */
    public static float[] logSoftmax(float[] x, int from, int n) {
        return logSoftmax(x, from, n, new float[n]);
    }

    /** {@link #logSoftmax(float[], int, int)} into out (length ≥ n); returns out. */
    public static float[] logSoftmax(float[] x, int from, int n, float[] out) {
        double lse = lse(x, from, n);
        for (int i = 0; i < n; i++) out[i] = (float) (x[from + i] - lse);
        return out;
    }

    /** One element of {@link #logSoftmax}: the raw log-probability of {@code id}. */
    public static float logprob(float[] x, int from, int n, int id) {
        return (float) (x[from + id] - lse(x, from, n));
    }

    private static double lse(float[] x, int from, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[from + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(x[from + i] - max);
        return max + Math.log(sum);
    }
}
