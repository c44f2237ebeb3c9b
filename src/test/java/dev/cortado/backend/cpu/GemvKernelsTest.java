package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cortado.tensor.DType;
import dev.cortado.tensor.Quantizer;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The four-panel GEMV kernels against the scalar reference decoding of the same packed weight
 * ({@link PackedWeight#decodePanel}, summed in double): bf16 int-lane kernels (called directly, since they are off by
 * default) and the int8 four-panel kernel, with and without a tail of panels.
 */
class GemvKernelsTest {
    static Tensor rand(int rows, int cols, long seed) {
        float[] a = new float[rows * cols];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return new Tensor(DType.F32, new long[] {rows, cols}, MemorySegment.ofArray(a));
    }

    /** y = x · W over panel p of w from the scalar decoding, in double. */
    static double[] reference(PackedWeight w, float[] x, int p) {
        int nr = PackedWeight.NR;
        float[] panel = new float[w.k * nr];
        w.decodePanel(p, panel);
        double[] y = new double[nr];
        for (int kk = 0; kk < w.k; kk++) for (int j = 0; j < nr; j++) y[j] += (double) x[kk] * panel[kk * nr + j];
        return y;
    }

    static void close(double[] want, float[] got, int at, String what) {
        for (int j = 0; j < want.length; j++) {
            assertEquals(want[j], got[at + j], 1e-4 * (1 + Math.abs(want[j])), what + " column " + j);
        }
    }

    @Test
    void bf16LanesMatchTheScalarDecoding() {
        assumeTrue(Simd.VECTOR && QuantMatmul.SUPPORTED, "needs the Vector API with ≥ 256-bit vectors");
        int nr = PackedWeight.NR;
        try (Arena arena = Arena.ofConfined()) {
            for (int[] sh : new int[][] {{45, 5 * nr}, {64, 4 * nr - 3}, {7, 9 * nr}}) {
                int k = sh[0], n = sh[1];
                PackedWeight w = PackedWeight.pack(rand(n, k, k * 31L + n), true, DType.BF16, arena);
                float[] x = rand(1, k, 5).toFloatArray();
                float[] out = new float[4 * nr];
                int p = 0;
                for (; p + 3 < w.panels(); p += 4) {
                    GemvKernels.bf16x4(x, w.data, p * w.panelBytes, w.panelBytes, k, out);
                    for (int r = 0; r < 4; r++) close(reference(w, x, p + r), out, r * nr, "bf16x4 " + k + "x" + n + " panel " + (p + r));
                }
                for (; p < w.panels(); p++) {
                    GemvKernels.bf16x1(x, w.data, p * w.panelBytes, w.panelBytes, k, out);
                    close(reference(w, x, p), out, 0, "bf16x1 " + k + "x" + n + " panel " + p);
                }
            }
        }
    }

    @Test
    void int8FourPanelsMatchTheScalarDecoding() {
        assumeTrue(Simd.VECTOR && QuantMatmul.SUPPORTED, "needs the Vector API with ≥ 256-bit vectors");
        int nr = PackedWeight.NR;
        try (Arena arena = Arena.ofConfined()) {
            for (int[] sh : new int[][] {{64, 4 * nr}, {96, 8 * nr - 5}, {172, 4 * nr}}) {
                int k = sh[0], n = sh[1];
                PackedWeight w = PackedWeight.pack(Quantizer.quantize(rand(n, k, k + 7L * n), true, 8, arena), arena);
                float[] x = rand(1, k, 9).toFloatArray();
                float[] out = new float[4 * nr];
                for (int p = 0; p + 3 < w.panels(); p += 4) {
                    GemvKernels.q8x4(x, null, w, p, out);
                    for (int r = 0; r < 4; r++) close(reference(w, x, p + r), out, r * nr, "q8x4 " + k + "x" + n + " panel " + (p + r));
                }
            }
        }
    }
}
