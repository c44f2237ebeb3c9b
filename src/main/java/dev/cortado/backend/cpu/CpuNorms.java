package dev.cortado.backend.cpu;

/** Row-wise norms, softmax and scalar activations for the CPU backend. */
final class CpuNorms {
    private CpuNorms() {}

    static void layerNorm(float[] x, float[] g, float[] b, float eps, float[] out, int d, int rows) {
        layerNorm(x, g, b, eps, out, d, 0, rows);
    }

    /** Rows [from, to). */
    static void layerNorm(float[] x, float[] g, float[] b, float eps, float[] out, int d, int from, int to) {
        if (Simd.VECTOR) {
            for (int r = from; r < to; r++) VectorNorms.layerNormRow(x, g, b, eps, out, d, r);
            return;
        }
        layerNormScalar(x, g, b, eps, out, d, from, to);
    }

    /** The scalar rows (the reference of {@link VectorNorms}; used without the Vector API). */
    static void layerNormScalar(float[] x, float[] g, float[] b, float eps, float[] out, int d, int from, int to) {
        for (int r = from; r < to; r++) {
            int o = r * d;
            double mean = 0;
            for (int j = 0; j < d; j++) mean += x[o + j];
            mean /= d;
            double var = 0;
            for (int j = 0; j < d; j++) {
                double t = x[o + j] - mean;
                var += t * t;
            }
            var /= d;
            float inv = (float) (1.0 / Math.sqrt(var + eps)), mu = (float) mean;
            for (int j = 0; j < d; j++) {
                float v = (x[o + j] - mu) * inv * g[j];
                out[o + j] = b == null ? v : v + b[j];
            }
        }
    }

    static void rmsNorm(float[] x, float[] g, float eps, float[] out, int d, int rows) {
        rmsNorm(x, g, eps, out, d, 0, rows);
    }

    /** Rows [from, to). */
    static void rmsNorm(float[] x, float[] g, float eps, float[] out, int d, int from, int to) {
        for (int r = from; r < to; r++) {
            int o = r * d;
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double) x[o + j] * x[o + j];
            float inv = (float) (1.0 / Math.sqrt(ss / d + eps));
            for (int j = 0; j < d; j++) out[o + j] = x[o + j] * inv * g[j];
        }
    }

    /** residual += x row-wise (the same float adds as {@code add}), then the norm of residual into out. */
    static void addLayerNorm(float[] residual, float[] x, float[] g, float[] b, float eps, float[] out, int d, int rows) {
        addLayerNorm(residual, x, g, b, eps, out, d, 0, rows);
    }

    /** Rows [from, to), one row at a time (the add and the norm while the row is in L1). */
    static void addLayerNorm(float[] residual, float[] x, float[] g, float[] b, float eps, float[] out, int d, int from, int to) {
        if (Simd.VECTOR) {
            for (int r = from; r < to; r++) VectorNorms.addLayerNormRow(residual, x, g, b, eps, out, d, r);
            return;
        }
        for (int r = from; r < to; r++) {
            for (int i = r * d, e = i + d; i < e; i++) residual[i] = residual[i] + x[i];
            layerNormScalar(residual, g, b, eps, out, d, r, r + 1);
        }
    }

    static void addRmsNorm(float[] residual, float[] x, float[] g, float eps, float[] out, int d, int rows) {
        addRmsNorm(residual, x, g, eps, out, d, 0, rows);
    }

    static void addRmsNorm(float[] residual, float[] x, float[] g, float eps, float[] out, int d, int from, int to) {
        for (int r = from; r < to; r++) {
            for (int i = r * d, e = i + d; i < e; i++) residual[i] = residual[i] + x[i];
            rmsNorm(residual, g, eps, out, d, r, r + 1);
        }
    }

    static void softmax(float[] a, int o, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) max = Math.max(max, a[o + j]);
        if (max == Float.NEGATIVE_INFINITY) {
            java.util.Arrays.fill(a, o, o + n, 0f);
            return;
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            float e = ScalarMath.exp(a[o + j] - max);
            a[o + j] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int j = 0; j < n; j++) a[o + j] *= inv;
    }
}
