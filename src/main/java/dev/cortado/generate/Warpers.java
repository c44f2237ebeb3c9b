package dev.cortado.generate;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Sampling warpers of Hugging Face transformers (applied only when sampling, after the processors, in this order:
 * temperature, top-k, top-p, min-p, typical-p). Removed tokens get -inf. Softmax and cumulative sums are computed in
 * double and rounded to float, as PyTorch's CPU kernels accumulate.
 */
public final class Warpers {
    private Warpers() {}

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    /** scores / temperature. */
    public record Temperature(float temperature) implements LogitsProcessor {
        @Override
        public void process(TokenHistory h, float[] scores) {
            for (int i = 0; i < scores.length; i++) scores[i] = scores[i] / temperature;
        }
    }

    /** Keeps the k highest scores (ties with the k-th kept), k = max(topK, minKeep). */
    public record TopK(int topK, int minKeep) implements LogitsProcessor {
        @Override
        public void process(TokenHistory h, float[] scores) {
            int k = Math.min(Math.max(topK, minKeep), scores.length);
            float[] sorted = scores.clone();
            Arrays.sort(sorted);
            float kth = sorted[sorted.length - k];
            for (int i = 0; i < scores.length; i++) if (scores[i] < kth) scores[i] = NEG_INF;
        }
    }

    /** Nucleus: removes the lowest tokens whose cumulative probability is <= 1 - top_p; keeps minKeep. */
    public record TopP(float topP, int minKeep) implements LogitsProcessor {
        @Override
        public void process(TokenHistory h, float[] scores) {
            Integer[] order = ascending(scores);
            float[] sortedScores = new float[scores.length];
            for (int i = 0; i < order.length; i++) sortedScores[i] = scores[order[i]];
            float[] cum = cumsum(softmax(sortedScores));
            float threshold = (float) (1.0 - decimal(topP));
            boolean[] remove = new boolean[scores.length];
            for (int i = 0; i < cum.length - minKeep; i++) remove[order[i]] = cum[i] <= threshold;
            for (int i = 0; i < scores.length; i++) if (remove[i]) scores[i] = NEG_INF;
        }
    }

    /** Removes tokens whose probability is below min_p times the top probability; keeps minKeep. */
    public record MinP(float minP, int minKeep) implements LogitsProcessor {
        @Override
        public void process(TokenHistory h, float[] scores) {
            float[] probs = softmax(scores);
            float top = 0f;
            for (float p : probs) top = Math.max(top, p);
            float threshold = minP * top;
            Integer[] order = ascending(probs);
            boolean[] keep = new boolean[scores.length];
            for (int i = 0; i < Math.min(minKeep, scores.length); i++) keep[order[order.length - 1 - i]] = true;
            for (int i = 0; i < scores.length; i++) if (probs[i] < threshold && !keep[i]) scores[i] = NEG_INF;
        }
    }

    /** Locally typical sampling (transformers' TypicalLogitsWarper). */
    public record Typical(float mass, int minKeep) implements LogitsProcessor {
        @Override
        public void process(TokenHistory h, float[] scores) {
            float[] logp = logSoftmax(scores);
            double ent = 0;
            for (float lp : logp) {
                double t = (double) lp * Math.exp(lp);
                if (!Double.isNaN(t)) ent -= t;
            }
            float entropy = (float) ent;
            float[] shifted = new float[scores.length];
            for (int i = 0; i < scores.length; i++) shifted[i] = Math.abs(-logp[i] - entropy);
            Integer[] order = ascending(shifted);
            float[] sortedLogits = new float[scores.length];
            for (int i = 0; i < order.length; i++) sortedLogits[i] = scores[order[i]];
            float[] cum = cumsum(softmax(sortedLogits));
            int lastInd = 0;
            for (float c : cum) if (c < mass) lastInd++;
            lastInd = Math.min(lastInd, scores.length - 1);
            float limit = shifted[order[lastInd]];
            boolean[] remove = new boolean[scores.length];
            for (int i = minKeep; i < order.length; i++) remove[order[i]] = shifted[order[i]] > limit;
            for (int i = 0; i < scores.length; i++) if (remove[i]) scores[i] = NEG_INF;
        }
    }

    /** The decimal value a user wrote (0.8f -> 0.8), as Python holds it. */
    static double decimal(float f) {
        return Double.parseDouble(Float.toString(f));
    }

    /** Indices sorted by ascending value, ties by index. */
    static Integer[] ascending(float[] v) {
        return IntStream.range(0, v.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> v[i]).thenComparingInt(i -> i))
                .toArray(Integer[]::new);
    }

    public static float[] softmax(float[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) max = Math.max(max, v);
        double[] e = new double[x.length];
        double sum = 0;
        for (int i = 0; i < x.length; i++) sum += e[i] = max == Double.NEGATIVE_INFINITY ? 0 : Math.exp(x[i] - max);
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) (e[i] / sum);
        return out;
    }

    public static float[] logSoftmax(float[] x) {
        return logSoftmax(x, new float[x.length]);
    }

    /** {@link #logSoftmax(float[])} into {@code out} (length ≥ x.length; may be x itself); returns out. */
    static float[] logSoftmax(float[] x, float[] out) {
        double lse = logSumExp(x);
        for (int i = 0; i < x.length; i++) out[i] = (float) (x[i] - lse);
        return out;
    }

    /** max + log Σ exp(x − max), in double: the shift every log-softmax here subtracts. */
    static double logSumExp(float[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) max = Math.max(max, v);
        double sum = 0;
        for (float v : x) sum += Math.exp(v - max);
        return max + Math.log(sum);
    }

    static float[] cumsum(float[] x) {
        float[] out = new float[x.length];
        double acc = 0;
        for (int i = 0; i < x.length; i++) out[i] = (float) (acc += x[i]);
        return out;
    }
}
