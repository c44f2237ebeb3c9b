package dev.cortado.backend.cpu;

import dev.cortado.backend.Backend.Activation;

/**
 * Activations: {@link VectorActivations} when {@link Simd#VECTOR}, else the scalar formulas below. Both paths do the
 * same float operations in the same order, over {@link ScalarMath}/{@link VectorMath}'s exp and tanh (IEEE basic
 * operations only), so the vector body, the scalar tail and the scalar backend give identical bits in every JIT state
 * and on every ISA. GELU(erf) uses erf from Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7) on both paths.
 */
final class CpuActivations {
    static final float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f,
            A4 = -1.453152027f, A5 = 1.061405429f;
    static final float INV_SQRT2 = (float) (1 / Math.sqrt(2)), K_TANH = (float) Math.sqrt(2 / Math.PI);
    /**
     * |x/√2| is clamped here before GELU(erf)'s erf: from about 3.9 on, 1 − poly(t)·exp(−z²) rounds to 1 in float, so
     * the clamp changes no result (ActivationSoftmaxBitsTest checks the boundary), but past ~9.3 exp(−z²) is subnormal,
     * and subnormal arithmetic made a pass over large negative pre-activations ~60 % slower (Zen 4).
     */
    static final float ERF_CLAMP = 9f;

    private CpuActivations() {}

    static void apply(float[] a, int from, int to, Activation act) {
        if (Simd.VECTOR) VectorActivations.apply(a, from, to, act);
        else applyScalar(a, from, to, act);
    }

    static void applyScalar(float[] a, int from, int to, Activation act) {
        for (int i = from; i < to; i++) a[i] = scalar(a[i], act);
    }

    /** act(x): the float operations of {@link VectorActivations#vector} in the same order, lane by lane. */
    static float scalar(float x, Activation act) {
        return switch (act) {
            case RELU -> Math.max(0f, x);
            case SILU -> x / (ScalarMath.exp(-x) + 1f);
            case GELU_TANH -> {
                float inner = (x * x * x * 0.044715f + x) * K_TANH;
                yield x * 0.5f * (ScalarMath.tanh(inner) + 1f);
            }
            case GELU_ERF -> geluErf(x);
        };
    }

    /** GELU(erf): {@link VectorActivations#geluErf}'s float operations in the same order. */
    static float geluErf(float x) {
        float z = x * INV_SQRT2, az = Math.min(Math.abs(z), ERF_CLAMP);
        float t = 1f / (az * P + 1f);
        float poly = ((((t * A5 + A4) * t + A3) * t + A2) * t + A1) * t;
        float erfAbs = 1f - poly * ScalarMath.exp(-(az * az));
        float erf = z < 0f ? -erfAbs : erfAbs;
        return x * 0.5f * (erf + 1f);
    }
}
