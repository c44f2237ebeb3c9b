package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend.Activation;
import dev.cortado.backend.KvView;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The scalar twins (used without {@code --add-modules jdk.incubator.vector}) agree with the Vector API kernels
 * (surefire runs with the module, so both paths run here, in one JVM). Tolerances are float-rounding sized: the
 * scalar matmul/attention use the same fma order per output lane; the activations are the same float operations
 * (bit-identical: ActivationSoftmaxBitsTest).
 */
class ScalarKernelsTest {
    private static final SplittableRandom R = new SplittableRandom(21);

    private static float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (R.nextDouble() * 2 - 1);
        return a;
    }

    private static void close(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - actual[i]) / Math.max(1, Math.abs(expected[i]));
            worst = Math.max(worst, d);
        }
        assertTrue(worst <= tol, what + ": max relative difference " + worst + " > " + tol);
    }

    @BeforeEach
    void needsTheVectorApi() {
        assumeTrue(Simd.VECTOR, "the Vector API is not enabled in this JVM (surefire normally adds it): nothing to compare");
    }

    @Test
    void matmulF32AndBf16MatchTheVectorKernels() {
        WorkerPool pool = WorkerPool.shared();
        int[][] shapes = {{1, 64, 48}, {1, 33, 70}, {3, 17, 5}, {9, 96, 130}, {70, 40, 33}, {1, 257, 1000}, {4, 96, 130}, {4, 64, 96}, {4, 48, 128}};
        for (int[] s : shapes) {
            int m = s[0], k = s[1], n = s[2];
            float[] x = rand(m * k), w = rand(k * n), bias = rand(n);
            short[] wb = new short[w.length];
            for (int i = 0; i < w.length; i++) wb[i] = (short) (Float.floatToRawIntBits(w[i]) >>> 16);
            for (boolean bf16 : new boolean[] {false, true}) {
                for (float[] b : new float[][] {null, bias}) {
                    float[] yv = new float[m * n], ys = new float[m * n];
                    try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofShared()) {
                        dev.cortado.tensor.Tensor src = bf16
                                ? new dev.cortado.tensor.Tensor(dev.cortado.tensor.DType.BF16, new long[] {k, n}, java.lang.foreign.MemorySegment.ofArray(wb))
                                : dev.cortado.tensor.Tensor.of(w, k, n);
                        PackedWeight pw = PackedWeight.pack(src, false, bf16 ? dev.cortado.tensor.DType.BF16 : dev.cortado.tensor.DType.F32, a);
                        PackedMatmul.matmul(x, pw, b, yv, m, pool);
                        ScalarPackedMatmul.matmul(x, pw, b, ys, m, pool);
                    }
                    close(yv, ys, 1e-5, "matmul " + m + "x" + k + "x" + n + (bf16 ? " bf16" : "") + (b != null ? " +bias" : ""));
                }
            }
        }
    }

    @Test
    void activationsMatchTheVectorKernels() {
        float[] x = rand(1000);
        for (int i = 0; i < x.length; i++) x[i] *= 8;
        for (Activation act : Activation.values()) {
            float[] v = x.clone(), s = x.clone();
            VectorActivations.apply(v, 0, v.length, act);
            CpuActivations.applyScalar(s, 0, s.length, act);
            close(v, s, 2e-6, act.name());
        }
        float[] g = rand(77), u = rand(77), gv = g.clone();
        VectorElementwise.mul(gv, u, 77);
        float[] z = new float[77], zv = new float[77];
        VectorElementwise.add(g, u, zv, 77);
        for (int i = 0; i < 77; i++) {
            assertEquals(g[i] * u[i], gv[i]);
            z[i] = g[i] + u[i];
        }
        assertEquals(java.util.Arrays.toString(z), java.util.Arrays.toString(zv));
    }

    private static Tensor t(float[] a, long... shape) {
        return new Tensor(DType.F32, shape, MemorySegment.ofArray(a));
    }

    @Test
    void attentionPrefillDecodeGqaMaskAndBiasMatchTheVectorKernels() {
        WorkerPool pool = WorkerPool.shared();
        // {batch, query len, heads, kv heads, head dim, kv len}: prefill (transposed keys) and decode (direct dots)
        // (head dims that are a multiple of two vectors and ≥ 3 queries take AttentionTiles on AVX-512: several and
        // ragged 8-query tiles, key tails, GQA, a causal prefix longer than the queries)
        int[][] cases = {{2, 7, 4, 2, 16, 7}, {1, 1, 6, 2, 32, 40}, {3, 2, 2, 1, 24, 19}, {1, 12, 2, 2, 64, 12},
                {2, 21, 4, 2, 32, 37}, {2, 9, 3, 3, 32, 9}, {1, 3, 2, 1, 64, 70}};
        for (int[] c : cases) {
            int b = c[0], sq = c[1], h = c[2], kvh = c[3], d = c[4], len = c[5];
            float[] q = rand(b * sq * h * d), kc = rand(b * kvh * len * d), vc = rand(b * kvh * len * d);
            KvView k = KvView.ofCache(t(kc, b, kvh, len, d), kvh, len, d), v = KvView.ofCache(t(vc, b, kvh, len, d), kvh, len, d);
            boolean[][] valid = new boolean[b][len];
            for (boolean[] row : valid) java.util.Arrays.fill(row, true);
            valid[b - 1][0] = false;
            float[] bias = rand(h * sq * len);
            AttentionMask[] masks = {AttentionMask.causal(len - sq), new AttentionMask(valid, false, 0)};
            for (AttentionMask mask : masks) {
                for (float[] bb : new float[][] {null, bias}) {
                    if (bb != null && b > 1) continue; // bias is [heads, sq, kv] (one sequence)
                    float[] ov = new float[q.length], os = new float[q.length];
                    CpuAttention.run(pool, q, h, d, k, kc, v, vc, len, mask, 0.25f, bb, ov, b, sq, true);
                    CpuAttention.run(pool, q, h, d, k, kc, v, vc, len, mask, 0.25f, bb, os, b, sq, false);
                    close(ov, os, 1e-5, "attention " + java.util.Arrays.toString(c) + (mask.causal() ? " causal" : " padded")
                            + (bb != null ? " +bias" : ""));
                }
            }
        }
    }
}
