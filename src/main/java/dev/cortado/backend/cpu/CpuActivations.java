package dev.cortado.backend.cpu;

import dev.cortado.backend.Backend.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized activations. GELU(erf) uses erf from Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7) on top of the
 * Vector API's exp; GELU(tanh) and SiLU use the Vector API's tanh/exp (SVML-backed on x86).
 */
final class CpuActivations {
    private static final VectorSpecies<Float> F = CpuMatmul.F;
    private static final int L = F.length();
    private static final float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f,
            A4 = -1.453152027f, A5 = 1.061405429f;
    private static final float INV_SQRT2 = (float) (1 / Math.sqrt(2)), K_TANH = (float) Math.sqrt(2 / Math.PI);

    private CpuActivations() {}

    static void apply(float[] a, int from, int to, Activation act) {
        int i = from;
        for (; i <= to - L; i += L) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            vector(x, act).intoArray(a, i);
        }
        for (; i < to; i++) a[i] = scalar(a[i], act);
    }

    static FloatVector vector(FloatVector x, Activation act) {
        return switch (act) {
            case RELU -> x.max(0f);
            case SILU -> x.div(x.neg().lanewise(VectorOperators.EXP).add(1f));
            case GELU_TANH -> {
                FloatVector inner = x.mul(x).mul(x).mul(0.044715f).add(x).mul(K_TANH);
                yield x.mul(0.5f).mul(inner.lanewise(VectorOperators.TANH).add(1f));
            }
            case GELU_ERF -> {
                FloatVector z = x.mul(INV_SQRT2), az = z.abs();
                FloatVector t = FloatVector.broadcast(F, 1f).div(az.mul(P).add(1f));
                FloatVector poly = t.mul(A5).add(A4).mul(t).add(A3).mul(t).add(A2).mul(t).add(A1).mul(t);
                FloatVector erfAbs = FloatVector.broadcast(F, 1f).sub(poly.mul(az.mul(az).neg().lanewise(VectorOperators.EXP)));
                FloatVector erf = erfAbs.blend(erfAbs.neg(), z.compare(VectorOperators.LT, 0f));
                yield x.mul(0.5f).mul(erf.add(1f));
            }
        };
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
