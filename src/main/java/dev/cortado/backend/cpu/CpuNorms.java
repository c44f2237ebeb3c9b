package dev.cortado.backend.cpu;

import dev.cortado.backend.Backend.Activation;

/** Row-wise norms, softmax and scalar activations for the CPU backend. */
final class CpuNorms {
    private CpuNorms() {}

    static void layerNorm(float[] x, float[] g, float[] b, float eps, float[] out, int d, int rows) {
        for (int r = 0; r < rows; r++) {
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
        for (int r = 0; r < rows; r++) {
            int o = r * d;
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double) x[o + j] * x[o + j];
            float inv = (float) (1.0 / Math.sqrt(ss / d + eps));
            for (int j = 0; j < d; j++) out[o + j] = x[o + j] * inv * g[j];
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
            float e = (float) Math.exp(a[o + j] - max);
            a[o + j] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int j = 0; j < n; j++) a[o + j] *= inv;
    }

    static float activation(float x, Activation act) {
        return switch (act) {
            case GELU_ERF -> (float) (0.5 * x * (1.0 + erf(x / Math.sqrt(2.0))));
            case GELU_TANH -> (float) (0.5 * x * (1.0 + Math.tanh(Math.sqrt(2.0 / Math.PI) * (x + 0.044715 * x * x * x))));
            case RELU -> Math.max(0f, x);
            case SILU -> (float) (x / (1.0 + Math.exp(-x)));
        };
    }

    /** erf to ~1e-15 (W. J. Cody's rational approximations via erfc for |x| ≥ 0.5; Taylor series below). */
    static double erf(double x) {
        double ax = Math.abs(x);
        if (ax < 0.5) {
            // Maclaurin series: converges fast for |x| < 0.5
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 30; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17) break;
            }
            return 2.0 / Math.sqrt(Math.PI) * sum;
        }
        if (ax > 6) return Math.signum(x);
        // continued fraction for erfc (Lentz), accurate for x >= 0.5
        double r = erfc(ax);
        return x > 0 ? 1 - r : r - 1;
    }

    private static double erfc(double x) {
        // erfc(x) = exp(-x²)/sqrt(pi) · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) ; evaluate by backward recurrence
        double f = 0;
        for (int n = 60; n >= 1; n--) f = (n / 2.0) / (x + f);
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / (x + f);
    }
}
