package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.Backend.Activation;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The float32 GEMM's rows per task depend on the shape and the thread count ({@link PackedMatmul#rowsPerTask}: 8 to
 * 256 rows, always a multiple of 8), and its results must not: every row goes through the same register tile
 * whatever the split. Shapes that take 8-, 16-, 64-, 128- and 256-row tasks, rows not a multiple of 8 (the 4-row and
 * 1-row tails), bias and a fused GELU; 1, 2, 3 and 16 threads give the same bits (with GELU: up to the last bit of
 * a cold JVM's EXP), and those bits are a float32 GEMM (checked against a double-precision product).
 */
class GemmTaskSplitTest {
    @Test
    void rowsPerTaskFollowsTheShape() {
        if (!Simd.VECTOR) return;
        assertEquals(16, PackedMatmul.rowsPerTask(128, 384, 384 / PackedMatmul.NR, 2), "batch-1 encoder o/down projection");
        assertEquals(256, PackedMatmul.rowsPerTask(4096, 384, 384 / PackedMatmul.NR, 2), "batch-32 encoder, k = 384");
        assertEquals(64, PackedMatmul.rowsPerTask(4096, 1536, 384 / PackedMatmul.NR, 2), "batch-32 encoder, k = 1536");
        assertEquals(64, PackedMatmul.rowsPerTask(128, 384, 12, 1), "one thread: no split for balance");
    }

    @Test
    void resultsDoNotDependOnTheTaskSplit() {
        SplittableRandom r = new SplittableRandom(5);
        int[] counts = {1, 2, 3, 16};
        // {m, k, n}
        int[][] shapes = {{128, 384, 96}, {600, 64, 96}, {2053, 48, 64}, {37, 40, 70}, {1031, 200, 33}, {4100, 24, 192}, {4, 200, 130}, {4, 96, 96}};
        for (int[] s : shapes) {
            int m = s[0], k = s[1], n = s[2];
            float[] x = new float[m * k], w = new float[k * n], b = new float[n];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
            for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextDouble() * 2 - 1) * 0.1f;
            for (int i = 0; i < b.length; i++) b[i] = (float) (r.nextDouble() * 2 - 1);
            for (Activation act : new Activation[] {null, Activation.GELU_ERF}) {
                float[] first = null;
                for (int threads : counts) {
                    CpuBackend be = new CpuBackend(new WorkerPool(threads)).serialBelow(0);
                    Tensor wt = be.linearWeight(Tensor.of(w.clone(), k, n));
                    Tensor y = be.allocate(DType.F32, m, n);
                    be.linear(Tensor.of(x.clone(), m, k), wt, Tensor.of(b.clone(), n), act, y);
                    float[] got = y.toFloatArray();
                    String what = "m" + m + " k" + k + " n" + n + " " + act + " threads " + threads;
                    if (first == null) {
                        first = got;
                        if (act == null) checkProduct(x, w, b, got, m, k, n, what);
                    } else {
                        // the activation (GELU(erf): float operations only, no exp) runs on each tile's rows whatever
                        // the split: the same bits
                        assertArrayEquals(first, got, what);
                    }
                }
            }
        }
    }

    /**
     * M = 4 (a decode step at batch 4) takes the two-panels-per-task path; its rows get the bits the same rows get inside
     * a 12-row GEMM (8- and 4-row tiles), bias and GELU included, odd and narrow last panels included.
     */
    @Test
    void fourRowsGiveTheBitsOfTheGeneralPath() {
        SplittableRandom r = new SplittableRandom(11);
        for (int[] s : new int[][] {{200, 130}, {96, 96}, {64, 160}, {33, 40}}) {
            int k = s[0], n = s[1];
            float[] x = new float[12 * k], w = new float[k * n], b = new float[n];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
            for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextDouble() * 2 - 1) * 0.1f;
            for (int i = 0; i < b.length; i++) b[i] = (float) (r.nextDouble() * 2 - 1);
            for (Activation act : new Activation[] {null, Activation.GELU_ERF}) {
                CpuBackend be = new CpuBackend(new WorkerPool(2)).serialBelow(0);
                Tensor wt = be.linearWeight(Tensor.of(w.clone(), k, n));
                Tensor y12 = be.allocate(DType.F32, 12, n), y4 = be.allocate(DType.F32, 4, n);
                be.linear(Tensor.of(x.clone(), 12, k), wt, Tensor.of(b.clone(), n), act, y12);
                be.linear(Tensor.of(java.util.Arrays.copyOf(x, 4 * k), 4, k), wt, Tensor.of(b.clone(), n), act, y4);
                assertArrayEquals(java.util.Arrays.copyOf(y12.toFloatArray(), 4 * n), y4.toFloatArray(), "k" + k + " n" + n + " " + act);
            }
        }
    }

    private static void checkProduct(float[] x, float[] w, float[] b, float[] y, int m, int k, int n, String what) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = b[j];
                for (int e = 0; e < k; e++) s += (double) x[i * k + e] * w[e * n + j];
                assertTrue(Math.abs(s - y[i * n + j]) <= 1e-4 * (1 + Math.abs(s)), what + " at " + i + "," + j + ": " + y[i * n + j] + " vs " + s);
            }
        }
    }
}
