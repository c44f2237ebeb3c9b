package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cortado.tensor.Int8Matrix;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Vector API int8 GEMM equals its scalar int32 twin bit for bit; the quantization follows ORT's formulas. */
class Int8MatmulTest {
    @Test
    void vectorKernelEqualsScalarTwinExactly() {
        SplittableRandom r = new SplittableRandom(5);
        for (int[] mkn : new int[][] {{1, 384, 384}, {17, 384, 1536}, {10, 1536, 384}, {3, 40, 20}, {65, 1100, 37}, {2, 2, 1}}) {
            int m = mkn[0], k = mkn[1], n = mkn[2];
            byte[] codes = new byte[k * n];
            for (int i = 0; i < codes.length; i++) codes[i] = (byte) r.nextInt(-128, 128);
            float[] s = new float[n];
            int[] z = new int[n];
            for (int j = 0; j < n; j++) {
                s[j] = (float) (0.001 + r.nextDouble() * 0.01);
                z[j] = r.nextInt(-255, 256);
            }
            Int8Weights.Packed w = Int8Weights.of(Int8Weights.bind(new Int8Matrix(k, n, codes, s, z)));
            float[] x = new float[m * k], bias = new float[n];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 3 + (i % 7 == 0 ? 20 : 0));
            for (int j = 0; j < n; j++) bias[j] = (float) r.nextGaussian();
            float[] yv = new float[m * n], ys = new float[m * n];
            Int8Weights.linear(x, w, bias, yv, m, WorkerPool.shared());
            Int8Weights.Quantized q = Int8Weights.quantize(x, m, k);
            float[] ss = new float[w.scales().length];
            for (int j = 0; j < ss.length; j++) ss[j] = q.scale() * w.scales()[j];
            Int8Weights.matmulScalar(q, w, ss, bias, ys, m, 0, m);
            assertArrayEquals(ys, yv, m + "×" + k + "×" + n);
        }
    }

    @Test
    void quantizationFollowsOrtFormulas() {
        // range [−1, 3] → scale 4/255, zero point rint(255/4) = 64; codes rint(x/scale) + zp, clamped to 0..255
        float[] x = {-1f, 3f, 0f, 1f, -0.5f};
        Int8Weights.Quantized q = Int8Weights.quantize(x, 1, 5);
        assertEquals(4f / 255f, q.scale());
        float scale = 4f / 255f;
        for (int i = 0; i < x.length; i++) {
            long code = Math.max(0, Math.min(255, (long) Math.rint(x[i] / scale) + 64));
            assertEquals(code - 64, (long) q.a()[i], "element " + i);
        }
        // all positive: the range is widened to include 0, zero point 0
        assertEquals(0f, Int8Weights.quantize(new float[] {1f, 2f}, 1, 2).a()[0] - Math.rint(1f / (2f / 255f)));
    }
}
