package dev.cortado.backend.cpu;

import dev.cortado.backend.Backend.Activation;

/**
 * Activations: {@link VectorActivations} when {@link Simd#VECTOR}, else the scalar formulas below (double
 * precision, rounded once). GELU(erf) uses erf from Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7) on both paths.
 */
final class CpuActivations {
    static final float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f,
            A4 = -1.453152027f, A5 = 1.061405429f;
    static final float INV_SQRT2 = (float) (1 / Math.sqrt(2)), K_TANH = (float) Math.sqrt(2 / Math.PI);

    private CpuActivations() {}

    static void apply(float[] a, int from, int to, Activation act) {
        if (Simd.VECTOR) VectorActivations.apply(a, from, to, act);
        else applyScalar(a, from, to, act);
    }

    static void applyScalar(float[] a, int from, int to, Activation act) {
        for (int i = from; i < to; i++) a[i] = scalar(a[i], act);
    }

    static float scalar(float x, Activation act) {
        return switch (act) {
            case RELU -> Math.max(0f, x);
            case SILU -> (float) (x / (1.0 + Math.exp(-x)));
            case GELU_TANH -> (float) (0.5 * x * (1.0 + Math.tanh(K_TANH * (x + 0.044715 * x * x * x))));
            case GELU_ERF -> (float) (0.5 * x * (1.0 + erf(x * INV_SQRT2)));
        };
    }

    static double erf(double z) {
        double az = Math.abs(z), t = 1 / (1 + P * az);
        double poly = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t;
        double r = 1 - poly * Math.exp(-az * az);
        return z < 0 ? -r : r;
    }
}
