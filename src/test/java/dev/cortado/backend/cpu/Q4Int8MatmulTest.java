package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Q4Int8Matmul} (4-bit weights × int8 activations) against an independent reference: each activation row
 * quantized per block as MLAS's {@code QuantizeARow_CompInt8} does (ONNX Runtime, written by others: {@code d = amax/127},
 * {@code q = nearbyint(x · (127/amax))}, clamp ±127), written out here from its documented formula, then the dot product of
 * those dequantized activations with the dequantized weights ({@link QuantizedMatrix#get}) in double. Asymmetric
 * (offsets), centred (Q4_0-style, offsets −8·scale) and float32-scale layouts; blocks of 32 to 128 (longer blocks flush the
 * 16-bit sums more than once); N not a multiple of the panel; m = 1 and 7 with a bias. A row's result is the same
 * whether it runs alone or with others (bitwise): the kernel does not depend on the batch.
 */
class Q4Int8MatmulTest {
    private static final WorkerPool POOL = new WorkerPool(2);

    @ParameterizedTest
    @CsvSource({"96, 70, 32, asym, true", "96, 70, 32, centred, true", "256, 33, 64, asym, true", "256, 65, 128, centred, false",
            "128, 40, 32, asym, false", "64, 32, 32, none, true"})
    void matchesDequantizedActivationsTimesDequantizedWeights(int k, int n, int bs, String kind, boolean half) {
        assumeTrue(QuantMatmul.SUPPORTED, "no 256/512-bit Vector API here (the scalar path has no int8 mode)");
        try (Arena a = Arena.ofShared()) {
            QuantizedMatrix q = QuantMatmulTest.random(a, n, k, 4, bs, !kind.equals("none"), half, 11 + k + n);
            if (kind.equals("centred")) {
                for (long i = 0; i < (long) n * (k / bs); i++) q.offsets().setAtIndex(Tensor.F32_LE, i, -8f * q.scales().getAtIndex(Tensor.F32_LE, i));
            }
            PackedWeight w = PackedWeight.pack(q, a, half);
            w.int8Activations = true;
            assertTrue(Q4Int8Matmul.supports(w), w.toString());
            assertTrue(kind.equals("centred") == w.centred, w.toString());
            int m = 7;
            float[] x = QuantMatmulTest.x(m, k, 5 + k);
            for (int i = 0; i < k; i++) x[3 * k + i] = 0f;   // an all-zero row: d = 0, every code 0
            x[2 * k + 1] = 40f;                               // an outlier: the rest of its block rounds coarsely
            float[] bias = new float[n];
            for (int j = 0; j < n; j++) bias[j] = 0.01f * j;
            float[] y = new float[m * n];
            PackedMatmul.matmul(x, w, bias, y, m, POOL);
            float[] xq = mlasDequantized(x, m, k, bs);
            double[] want = QuantMatmulTest.reference(xq, m, k, n, q::get, bias);
            QuantMatmulTest.close(want, y, 2e-6, kind + " bs " + bs);
            for (int r = 0; r < m; r++) {
                float[] one = new float[n];
                PackedMatmul.matmul(Arrays.copyOfRange(x, r * k, (r + 1) * k), w, bias, one, 1, POOL);
                assertArrayEquals(Arrays.copyOfRange(y, r * n, (r + 1) * n), one, "row " + r + " alone vs in a batch of " + m);
            }
            // and it is not the float path: the same weight with float activations differs (the activations were rounded)
            w.int8Activations = false;
            float[] yf = new float[m * n];
            PackedMatmul.matmul(x, w, bias, yf, m, POOL);
            assertTrue(!Arrays.equals(y, yf), "int8 and float activations gave identical bits");
        }
    }

    /**
     * Who decides: a weight whose source asks for int8 activations (a MatMulNBits accuracy_level 4 file) gets them by
     * default, and {@code --activations float} (a chosen mode) overrides it; {@code --activations int8} turns them on for
     * a weight that did not ask.
     */
    @org.junit.jupiter.api.Test
    void aChosenModeOverridesTheFile() {
        assumeTrue(QuantMatmul.SUPPORTED, "no 256/512-bit Vector API here");
        int k = 64, n = 40, bs = 32;
        try (Arena a = Arena.ofShared()) {
            QuantizedMatrix plain = QuantMatmulTest.random(a, n, k, 4, bs, true, true, 3);
            QuantizedMatrix asks = new QuantizedMatrix(n, k, 4, bs, plain.values(), plain.scales(), plain.offsets(), true);
            float[] x = QuantMatmulTest.x(1, k, 9);
            double[] floatRef = QuantMatmulTest.reference(x, 1, k, n, plain::get, null);
            double[] int8Ref = QuantMatmulTest.reference(mlasDequantized(x, 1, k, bs), 1, k, n, plain::get, null);
            dev.cortado.backend.Quantization none = dev.cortado.backend.Quantization.NONE;
            QuantMatmulTest.close(int8Ref, linear(none, asks, x, n), 2e-6, "file asks, default");
            QuantMatmulTest.close(floatRef, linear(none.withInt8Activations(false), asks, x, n), 2e-6, "file asks, float chosen");
            QuantMatmulTest.close(floatRef, linear(none, plain, x, n), 2e-6, "nobody asks");
            QuantMatmulTest.close(int8Ref, linear(none.withInt8Activations(true), plain, x, n), 2e-6, "int8 chosen");
            assertTrue(!Arrays.equals(linear(none, asks, x, n), linear(none, plain, x, n)), "the two modes differ here");
        }
    }

    private static float[] linear(dev.cortado.backend.Quantization q, QuantizedMatrix w, float[] x, int n) {
        try (CpuBackend be = new CpuBackend(POOL, dev.cortado.tensor.DType.F32, q)) {
            Tensor out = Tensor.of(new float[n], 1, n);
            be.linear(Tensor.of(x, 1, x.length), be.quantizedWeight(w), null, out);
            return out.toFloatArray();
        }
    }

    /** MLAS CompInt8's activation quantization per block, returned dequantized (q · d) in float. */
    static float[] mlasDequantized(float[] x, int m, int k, int bs) {
        float[] out = new float[m * k];
        for (int r = 0; r < m; r++) {
            for (int b0 = r * k; b0 < (r + 1) * k; b0 += bs) {
                float amax = 0;
                for (int i = b0; i < b0 + bs; i++) amax = Math.max(amax, Math.abs(x[i]));
                float scale = amax / 127f, inv = amax != 0 ? 127f / amax : 0f;
                for (int i = b0; i < b0 + bs; i++) {
                    float v = (float) Math.rint(x[i] * inv);
                    out[i] = Math.max(-127f, Math.min(127f, v)) * scale;
                }
            }
        }
        return out;
    }
}
