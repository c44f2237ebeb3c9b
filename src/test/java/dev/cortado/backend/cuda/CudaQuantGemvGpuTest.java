package dev.cortado.backend.cuda;

import static dev.cortado.backend.cuda.GpuTestSupport.assertClose;
import static dev.cortado.backend.cuda.GpuTestSupport.random;
import static dev.cortado.backend.cuda.GpuTestSupport.tol;

import dev.cortado.tensor.DType;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The dequantizing GEMV (kernels/qgemv.cu) against {@link QuantizedMatrix#dequantize} times x in double: 8- and
 * 4-bit codes, block sizes on the 16-byte fast path (32, 64, K) and off it (8, 24), with and without offsets, M = 1..9,
 * odd N; and through {@link CudaBackend#quantizedWeight} + linear.
 */
@Tag("gpu")
class CudaQuantGemvGpuTest {
    static QuantizedMatrix randomMatrix(Arena a, Random r, int rows, int cols, int bits, int bs, boolean offsets) {
        MemorySegment v = a.allocate((long) rows * cols * bits / 8, 16);
        for (long i = 0; i < v.byteSize(); i++) v.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(256));
        int nb = cols / bs;
        MemorySegment s = a.allocate((long) rows * nb * 4, 16), o = offsets ? a.allocate((long) rows * nb * 4, 16) : null;
        for (long i = 0; i < (long) rows * nb; i++) {
            s.setAtIndex(Tensor.F32_LE, i, 0.001f + 0.02f * r.nextFloat());
            if (o != null) o.setAtIndex(Tensor.F32_LE, i, (r.nextFloat() - 0.5f) * 0.2f);
        }
        return new QuantizedMatrix(rows, cols, bits, bs, v, s, o);
    }

    static byte[] bytes(MemorySegment s, long n) {
        byte[] b = new byte[(int) n];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 0, b, 0, b.length);
        return b;
    }

    static float[] floats(MemorySegment s, long n) {
        float[] f = new float[(int) n];
        MemorySegment.copy(s, Tensor.F32_LE, 0, f, 0, f.length);
        return f;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void qgemvMatchesDequantizedMatmul(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        Random r = new Random(17);
        int[][] shapes = {{37, 256}, {300, 1024}, {5, 96}};
        try (Arena a = Arena.ofConfined()) {
            for (int[] sh : shapes) {
                int n = sh[0], k = sh[1];
                for (int bits : new int[] {8, 4}) {
                    for (int bs : new int[] {32, 64, k, 8, 24}) {
                        if (k % bs != 0) continue;
                        for (boolean off : new boolean[] {false, true}) {
                            QuantizedMatrix q = randomMatrix(a, r, n, k, bits, bs, off);
                            float[] deq = q.dequantize().toFloatArray();
                            for (int m : new int[] {1, 4, 9}) {
                                float[] x = random(r, t, m * k, 1), b = random(r, t, n, 1);
                                double[] want = new double[m * n], mass = new double[m * n];
                                for (int i = 0; i < m; i++)
                                    for (int j = 0; j < n; j++) {
                                        double s = b[j], l1 = Math.abs(s);
                                        for (int c = 0; c < k; c++) {
                                            double p = (double) x[i * k + c] * deq[j * k + c];
                                            s += p;
                                            l1 += Math.abs(p);
                                        }
                                        want[i * n + j] = s;
                                        mass[i * n + j] = Math.max(l1, Math.abs(s));
                                    }
                                try (var sc = new GpuTestSupport.Scope(ctx)) {
                                    long y = sc.alloc((long) m * n * t.byteSize()).address();
                                    long nb = (long) n * q.blocksPerRow();
                                    ctx.kernels().qgemv(t, bits, y, sc.upload(t, x), sc.upload(bytes(q.values(), (long) n * k * bits / 8)),
                                            sc.upload(DType.F32, floats(q.scales(), nb)), off ? sc.upload(DType.F32, floats(q.offsets(), nb)) : 0,
                                            sc.upload(t, b), m, n, k, bs, null);
                                    assertClose("qgemv" + bits + " " + t + " M=" + m + " N=" + n + " K=" + k + " bs=" + bs + " offsets=" + off,
                                            tol(t), want, sc.download(t, y, m * n), t == DType.F32 ? mass : null);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void backendQuantizedWeightRunsThroughLinear() {
        CudaBackendGpuTest.requireGpu();
        Random r = new Random(3);
        int n = 70, k = 128, m = 3;
        try (Arena a = Arena.ofConfined(); CudaBackend be = new CudaBackend(0)) {
            QuantizedMatrix q = randomMatrix(a, r, n, k, 4, 32, true);
            float[] deq = q.dequantize().toFloatArray(), x = new float[m * k];
            for (int i = 0; i < x.length; i++) x[i] = r.nextFloat() - 0.5f;
            Tensor w = be.quantizedWeight(q), xt = be.fromHost(x, m, k), y = be.allocate(DType.F32, m, n);
            be.linear(xt, w, null, y);
            double[] want = new double[m * n];
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) for (int c = 0; c < k; c++) want[i * n + j] += (double) x[i * k + c] * deq[j * k + c];
            assertClose("CudaBackend.quantizedWeight + linear", DType.F32, want, be.toHost(y));
        }
    }
}
