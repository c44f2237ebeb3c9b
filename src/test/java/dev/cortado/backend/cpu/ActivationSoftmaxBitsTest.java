package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
     * GELU(erf) clamps |x/√2| at {@link CpuActivations#ERF_CLAMP} (to keep exp(−z²) out of the subnormals): every float
     * x with |x/√2| between 8 and 32 (each of them, both signs) and a sweep on to Float.MAX_VALUE gives the bits of the
     * unclamped A–S 7.1.26 formula, because the erf has rounded to ±1 long before the clamp.
     */
    @Test
    void erfClampChangesNoResult() {
        java.util.function.IntConsumer check = bits -> {
            float x = Float.intBitsToFloat(bits);
            assertEquals(Float.floatToRawIntBits(unclampedGeluErf(x)), Float.floatToRawIntBits(CpuActivations.geluErf(x)), "x=" + x);
        };
        for (int sign : new int[] {0, 0x8000_0000}) {
            int lo = Float.floatToRawIntBits(8f * (float) Math.sqrt(2)), hi = Float.floatToRawIntBits(32f * (float) Math.sqrt(2));
            for (int b = lo; b <= hi; b++) check.accept(sign | b);
            for (int b = hi; b < Float.floatToRawIntBits(Float.MAX_VALUE) && b > 0; b += 997) check.accept(sign | b);
        }
    }

    /** The GELU(erf) formula as it was before the clamp (see {@link #erfClampChangesNoResult}). */
    private static float unclampedGeluErf(float x) {
        float z = x * CpuActivations.INV_SQRT2, az = Math.abs(z);
        float t = 1f / (az * CpuActivations.P + 1f);
        float poly = ((((t * CpuActivations.A5 + CpuActivations.A4) * t + CpuActivations.A3) * t + CpuActivations.A2) * t + CpuActivations.A1) * t;
        float erfAbs = 1f - poly * ScalarMath.exp(-(az * az));
        float erf = z < 0f ? -erfAbs : erfAbs;
        return x * 0.5f * (erf + 1f);
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
