package dev.cortado.backend.cpu;

import dev.cortado.backend.Backend.Activation;

/**
 * Activations: {@link VectorActivations} when {@link Simd#VECTOR}, else the scalar formulas below. Both paths do the
 * same float operations in the same order, over {@link ScalarMath}/{@link VectorMath}'s exp and tanh (IEEE basic
 * operations only), so the vector body, the scalar tail and the scalar backend give identical bits in every JIT state
 * and on every ISA. GELU(erf) = x·Φ(x) with Φ(x) − 1/2 = x·P(x²)/Q(x²), a 6/6-term rational fit of ½·erf(x/√2) on
 * [0, 5.75] (see {@link #geluErf}).
 */
final class CpuActivations {
    static final float K_TANH = (float) Math.sqrt(2 / Math.PI);
    /**
     * GELU(erf)'s Φ(x) − 1/2 ≈ x·P(x²)/Q(x²) for |x| < GELU_C, least-squares fitted (Sanathanan–Koerner iterations with
     * Lawson reweighting, numpy, against mpmath's erf) to relative error 3.1e-8 in double; evaluated in float the GELU
     * is within 9e-7 of the exact value (ActivationSoftmaxBitsTest#geluErfMatchesTheSeries; the A–S 7.1.26 erf used
     * before was within 5e-7) at half the cost: 17 float operations and no exp (0.53 vs 1.1 ns per element on Zen 4).
     * From |x| = GELU_C on, Φ is 0 or 1 exactly: large positive inputs give x (as the exact GELU rounds to), large
     * negative ones −0 (the exact value is below 3e-8 in magnitude there; the A–S erf gave −0 from about −5.5 on too).
     */
    static final float GELU_C = 5.75f;
    static final float GP0 = 3.989422683e-01f, GP1 = 3.470444250e-02f, GP2 = 4.722240560e-03f, GP3 = 1.763215127e-04f,
            GP4 = 6.293212388e-06f, GP5 = 2.141112182e-08f;
    static final float GQ1 = 2.536573260e-01f, GQ2 = 2.911434323e-02f, GQ3 = 1.927901144e-03f, GQ4 = 7.545328053e-05f,
            GQ5 = 1.153876750e-06f;

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

    /** GELU(erf): {@link VectorActivations#geluErf}'s float operations in the same order (see {@link #GELU_C}). */
    static float geluErf(float x) {
        float xc = Math.min(Math.max(x, -GELU_C), GELU_C), t = xc * xc;
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(t, GP5, GP4), t, GP3), t, GP2), t, GP1), t, GP0);
        float q = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(t, GQ5, GQ4), t, GQ3), t, GQ2), t, GQ1), t, 1f);
        float phi = xc * p / q + 0.5f;
        phi = x >= GELU_C ? 1f : phi;
        phi = x <= -GELU_C ? 0f : phi;
        return x * phi;
    }
}
