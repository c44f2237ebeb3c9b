package dev.cortado.engine;

import dev.cortado.CortadoException;

/** Sentence pooling over the last hidden state: mean over real tokens (sentence-transformers) or the CLS token. */
public enum Pooling {
    MEAN, CLS;

    public static Pooling parse(String s) {
        return switch (s.toLowerCase()) {
            case "mean" -> MEAN;
            case "cls" -> CLS;
            default -> throw new CortadoException("unknown pooling '" + s + "' (use mean or cls)");
        };
    }

    public float[] pool(float[][] hidden, boolean[] valid) {
        int d = hidden[0].length;
        float[] out = new float[d];
        if (this == CLS) {
            System.arraycopy(hidden[0], 0, out, 0, d);
            return out;
        }
        double[] acc = new double[d];
        int n = 0;
        for (int j = 0; j < hidden.length; j++) {
            if (!valid[j]) continue;
            n++;
            for (int e = 0; e < d; e++) acc[e] += hidden[j][e];
        }
        for (int e = 0; e < d; e++) out[e] = (float) (acc[e] / Math.max(n, 1));
        return out;
    }

    /** L2 normalization (sentence-transformers Normalize: divide by max(norm, 1e-12)). */
    public static float[] normalize(float[] v) {
        double ss = 0;
        for (float x : v) ss += (double) x * x;
        double norm = Math.max(Math.sqrt(ss), 1e-12);
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (float) (v[i] / norm);
        return out;
    }
}
