package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cortado.backend.Backend.Activation;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The vector path and the scalar path of the activations and of softmax's exp give the same bits, element for element,
 * vector bodies and scalar tails alike ({@link VectorMath} and {@link ScalarMath} are the same float operations), so
 * where an element lands (vector body, tail, the scalar backend) does not change it. Inputs cover the saturating
 * ranges and IEEE specials. Runs from the first (interpreted) call on, so it also covers the cold JIT state.
 */
class ActivationSoftmaxBitsTest {
    private static final SplittableRandom R = new SplittableRandom(29);

    @BeforeEach
    void needsTheVectorApi() {
        assumeTrue(Simd.VECTOR, "the Vector API is not enabled in this JVM (surefire normally adds it): nothing to compare");
    }

    static float[] inputs(int n, double range) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((R.nextDouble() * 2 - 1) * range);
        float[] specials = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 100f, -100f, 90f, -90f,
            1e-30f, -1e-30f, Float.MIN_VALUE, 0.625f, -0.625f, 0.6249999f, 9f, -9f, 44.5f, -44.5f, Float.MAX_VALUE};
        for (int i = 0; i < specials.length && i * 7 < n; i++) a[i * 7] = specials[i];
        return a;
    }

    @Test
    void activationsGiveTheSameBitsOnTheVectorAndTheScalarPath() {
        for (int round = 0; round < 40; round++) {
            for (int n : new int[] {1, 7, 63, 100, 1021, 4099}) {
                for (Activation act : Activation.values()) {
                    float[] x = inputs(n, round % 2 == 0 ? 6 : 60);
                    int from = round % 3;
                    float[] v = x.clone(), s = x.clone();
                    VectorActivations.apply(v, Math.min(from, n), n, act);
                    CpuActivations.applyScalar(s, Math.min(from, n), n, act);
                    assertArrayEquals(s, v, act + " n=" + n + " from=" + from);
                }
            }
        }
    }

    /**
     * GELU(erf)'s rational Φ against x/2·(1 + erf(x/√2)) with erf from its Taylor series, summed in 60-digit BigDecimal
     * (an independent reference: the series is erf's definition, not a fit): within 1e-6·max(1, |x|) over [−8, 8] on a
     * 1/64 grid (the A–S erf used before was within the same bound; GELU(tanh) is off by up to 1e-3 there), and exactly
     * x or −0 beyond ±{@link CpuActivations#GELU_C}.
     */
    @Test
    void geluErfMatchesTheSeries() {
        for (int i = -512; i <= 512; i++) {
            float x = i / 64f;
            double ref = x / 2.0 * (1 + erfSeries(x / Math.sqrt(2)));
            float got = CpuActivations.geluErf(x);
            assertTrue(Math.abs(got - ref) <= 1e-6 * Math.max(1, Math.abs(x)), "x=" + x + ": " + got + " vs " + ref);
        }
        for (float x : new float[] {5.75f, 6f, 9f, 100f, 3e38f}) {
            assertEquals(x, CpuActivations.geluErf(x), 0f, "x=" + x);
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(CpuActivations.geluErf(-x)), "x=" + -x);
        }
    }

    /** erf(z) = 2/√π · Σ (−1)ⁿ z^(2n+1) / (n!·(2n+1)), in BigDecimal (terms of up to ~1e14 cancel for |z| ≤ 6). */
    private static double erfSeries(double z) {
        java.math.MathContext mc = new java.math.MathContext(60);
        java.math.BigDecimal bz = new java.math.BigDecimal(z), z2 = bz.multiply(bz, mc), term = bz, sum = java.math.BigDecimal.ZERO;
        for (int n = 0; n < 400; n++) {
            java.math.BigDecimal t = term.divide(java.math.BigDecimal.valueOf(2L * n + 1), mc);
            sum = n % 2 == 0 ? sum.add(t, mc) : sum.subtract(t, mc);
            term = term.multiply(z2, mc).divide(java.math.BigDecimal.valueOf(n + 1), mc);
            if (n > 10 && t.abs().compareTo(new java.math.BigDecimal("1e-30")) < 0) break;
        }
        java.math.BigDecimal pi = new java.math.BigDecimal("3.14159265358979323846264338327950288419716939937510582097494");
        return sum.multiply(java.math.BigDecimal.valueOf(2), mc).divide(pi.sqrt(mc), mc).doubleValue();
    }

    /** The fused GEMM epilogue (rows of two vectors each) gives the bits of the plain activation. */
    @Test
    void rowEpilogueGivesTheSameBits() {
        int l = CpuMatmul.F.length(), stride = 2 * l + 5, rows = 9;
        for (Activation act : Activation.values()) {
            float[] y = inputs(rows * stride, 8), s = y.clone();
            VectorActivations.applyRows(y, 3, stride, rows, act);
            for (int r = 0; r < rows; r++) CpuActivations.applyScalar(s, 3 + r * stride, 3 + r * stride + 2 * l, act);
            assertArrayEquals(s, y, act.toString());
        }
    }

    @Test
    void softmaxExpGivesTheSameBitsOnTheVectorAndTheScalarPath() {
        for (int round = 0; round < 200; round++) {
            for (int n : new int[] {1, 5, 16, 33, 130, 1027}) {
                float[] x = inputs(n, round % 2 == 0 ? 10 : 120);
                for (int i = 0; i < n; i++) if (Float.isNaN(x[i]) || x[i] == Float.POSITIVE_INFINITY) x[i] = -1e30f; // scores
                float[] v = x.clone(), s = x.clone(), w = new float[n + 3];
                System.arraycopy(x, 0, w, 3, n);
                float iv = VectorAttention.softmaxInPlace(v, n), is = CpuAttention.softmaxInPlace(s, n);
                float iw = VectorAttention.softmaxInPlace(w, 3, n);
                assertArrayEquals(s, v, "n=" + n);
                assertArrayEquals(s, java.util.Arrays.copyOfRange(w, 3, n + 3), "n=" + n + " at offset 3");
                assertEquals(is, iv, is * 1e-6f, "1/sum n=" + n); // the sums differ: float lanes vs a serial double sum
                assertEquals(iv, iw, iv * 1e-6f, "1/sum n=" + n + " at offset 3");
                // CpuNorms.softmax: the same exps and sum, then normalized
                float[] t = x.clone();
                CpuNorms.softmax(t, 0, n);
                for (int i = 0; i < n; i++) assertEquals(s[i] * is, t[i], "n=" + n + " i=" + i);
            }
        }
    }
}
