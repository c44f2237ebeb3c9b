package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.Quantization;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Quantizer;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The CPU linear kernels over every packed format against an independent reference: {@link QuantizedMatrix#get}
 * (and {@link QuantizedMatrix#dequantize}) or the float weight, times x, accumulated in double. Vector kernels
 * (when the module is present) and their scalar twin {@link ScalarPackedMatmul} alike; random shapes with odd N,
 * K a multiple of the block, m = 1..9.
 */
class QuantMatmulTest {
    private static final WorkerPool POOL = new WorkerPool(2);

    static QuantizedMatrix random(Arena a, int rows, int cols, int bits, int bs, boolean offsets, long seed) {
        return random(a, rows, cols, bits, bs, offsets, false, seed);
    }

    /** half: scales and offsets rounded to float16 (GGUF's Q4_0/Q4_1 form): a packed Q4 weight then keeps them in 16 bits. */
    static QuantizedMatrix random(Arena a, int rows, int cols, int bits, int bs, boolean offsets, boolean half, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        MemorySegment v = a.allocate((long) rows * cols * bits / 8);
        for (long i = 0; i < v.byteSize(); i++) v.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(256));
        if (bits == 8) for (long i = 0; i < v.byteSize(); i++) if (v.get(ValueLayout.JAVA_BYTE, i) == -128) v.set(ValueLayout.JAVA_BYTE, i, (byte) 0);
        int nb = cols / bs;
        MemorySegment s = a.allocate((long) rows * nb * 4), o = offsets ? a.allocate((long) rows * nb * 4) : null;
        for (long i = 0; i < (long) rows * nb; i++) {
            float sc = (float) (0.001 + 0.02 * r.nextDouble()) * (i % 3 == 0 ? -1 : 1), of = (float) (r.nextDouble() - 0.5) * 0.2f;
            if (half) {
                sc = Float.float16ToFloat(Float.floatToFloat16(sc * (i % 7 == 0 ? 1e-3f : 1f))); // some float16 subnormals
                of = Float.float16ToFloat(Float.floatToFloat16(of));
            }
            s.setAtIndex(Tensor.F32_LE, i, sc);
            if (o != null) o.setAtIndex(Tensor.F32_LE, i, of);
        }
        return new QuantizedMatrix(rows, cols, bits, bs, v, s, o);
    }

    static float[] x(int m, int k, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[m * k];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    /** y = x · Wᵀ with W [n, k] given element-wise; double accumulation. */
    interface W { double get(int row, int col); }

    static double[] reference(float[] x, int m, int k, int n, W w, float[] bias) {
        double[] y = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double a = bias == null ? 0 : bias[j];
                for (int c = 0; c < k; c++) a += (double) x[i * k + c] * w.get(j, c);
                y[i * n + j] = a;
            }
        }
        return y;
    }

    static void close(double[] want, float[] got, double tol, String what) {
        double scale = 0;
        for (double v : want) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < want.length; i++) {
            if (Math.abs(want[i] - got[i]) > tol * Math.max(1, scale)) {
                throw new AssertionError(what + ": element " + i + " want " + want[i] + " got " + got[i]);
            }
        }
    }

    @Test
    void quantizedLinearMatchesDequantizedMatmul() {
        int[][] shapes = {{37, 64}, {70, 96}, {1, 32}, {129, 128}, {33, 256}};
        int[] blocks = {32, 16, 64, 0};
        long seed = 1;
        try (Arena a = Arena.ofConfined(); CpuBackend be = new CpuBackend(POOL)) {
            for (int[] sh : shapes) {
                int n = sh[0], k = sh[1];
                for (int bits : new int[] {8, 4}) {
                    for (int bsRaw : blocks) {
                        int bs = bsRaw == 0 ? k : bsRaw;
                        if (k % bs != 0) continue;
                        for (int variant = 0; variant < 6; variant++) {
                            // 4, 5: symmetric int4 (offsets −8·scale, as GGUF Q4_0 and MatMulNBits without zero points)
                            boolean centred = variant >= 4, off = (variant & 1) != 0 || centred, half = variant == 2 || variant == 3 || variant == 5;
                            QuantizedMatrix q = random(a, n, k, bits, bs, off, half, seed++);
                            if (centred) {
                                for (long i = 0; i < q.scales().byteSize() / 4; i++) {
                                    q.offsets().setAtIndex(Tensor.F32_LE, i, -8f * q.scales().getAtIndex(Tensor.F32_LE, i));
                                }
                            }
                            Tensor w = be.quantizedWeight(q);
                            assertEquals(k, w.dim(0));
                            assertEquals(n, w.dim(1));
                            PackedWeight pw = packed(be, w);
                            assertEquals(half, pw.half, pw + " 16-bit scales");
                            assertEquals(centred && pw.format == PackedWeight.Format.Q4, pw.centred, pw + " centred");
                            Tensor deq = q.dequantize();
                            for (int m = 1; m <= 9; m++) {
                                float[] xs = x(m, k, seed++);
                                float[] bias = m % 2 == 0 ? x(1, n, seed++) : null;
                                double[] want = reference(xs, m, k, n, q::get, bias);
                                double[] want2 = reference(xs, m, k, n, (r, c) -> deq.getFloat((long) r * k + c), bias);
                                String what = bits + "-bit " + n + "×" + k + " block " + bs + (off ? " +offsets" : "") + (half ? " f16" : "") + (centred ? " centred" : "") + " m=" + m;
                                float[] w2 = new float[want2.length];
                                for (int i = 0; i < w2.length; i++) w2[i] = (float) want2[i];
                                close(want, w2, 1e-6, what + " (dequantize)");
                                float[] y = new float[m * n];
                                be.linear(Tensor.of(xs, m, k), w, bias == null ? null : Tensor.of(bias, n), Tensor.of(y, m, n));
                                close(want, y, 2e-5, what + (Simd.VECTOR ? " vector" : " scalar"));
                                float[] ys = new float[m * n];
                                ScalarPackedMatmul.matmul(xs, pw, bias, ys, m, POOL);
                                close(want, ys, 2e-5, what + " scalar twin");
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Q8 and Q4 weights whose scales (and offsets) are exactly float16 — negative ones and float16 subnormals included —
     * packed with 16-bit scales give bit-identical results to the same weights packed with float32 scales (the kernels
     * widen each scale to the same float): GEMV (m = 1), GEMM (m > 1), the scalar twin, decodePanel and column.
     */
    @Test
    void halfScalesAreBitIdenticalToFloatScales() {
        long seed = 900;
        try (Arena a = Arena.ofShared()) { // the worker pool reads the packed weights
            for (int bits : new int[] {8, 4}) {
                for (int[] sh : new int[][] {{37, 64}, {70, 96}, {129, 128}, {33, 256}}) {
                    int n = sh[0], k = sh[1];
                    for (int bs : new int[] {32, 16, 64}) {
                        if (k % bs != 0) continue;
                        for (boolean off : new boolean[] {false, true}) {
                            QuantizedMatrix q = random(a, n, k, bits, bs, off, true, seed++);
                            boolean subnormal = false, negative = false;
                            for (long i = 0; i < q.scales().byteSize() / 4; i++) {
                                float v = q.scales().getAtIndex(Tensor.F32_LE, i);
                                subnormal |= v != 0 && Math.abs(v) < 0x1p-14f;
                                negative |= v < 0;
                            }
                            assertTrue(subnormal && negative, "the test scales include float16 subnormals and negatives");
                            PackedWeight h = PackedWeight.pack(q, a), f = PackedWeight.pack(q, a, false);
                            assertTrue(h.half && !f.half, h + " / " + f);
                            assertTrue(h.data.byteSize() < f.data.byteSize(), "16-bit scales take less memory");
                            String what = bits + "-bit " + n + "×" + k + " block " + bs + (off ? " +offsets" : "");
                            float[] dh = new float[k * PackedWeight.NR], df = new float[k * PackedWeight.NR];
                            for (int p = 0; p < h.panels(); p++) {
                                h.decodePanel(p, dh);
                                f.decodePanel(p, df);
                                same(df, dh, what + " decodePanel " + p);
                            }
                            float[] ch = new float[k], cf = new float[k];
                            for (int c = 0; c < n; c += 5) {
                                h.column(c, ch, 0);
                                f.column(c, cf, 0);
                                same(cf, ch, what + " column " + c);
                            }
                            for (int m : new int[] {1, 2, 5, 9}) {
                                float[] xs = x(m, k, seed++), bias = m % 2 == 1 ? x(1, n, seed++) : null;
                                float[] yh = new float[m * n], yf = new float[m * n];
                                ScalarPackedMatmul.matmul(xs, h, bias, yh, m, POOL);
                                ScalarPackedMatmul.matmul(xs, f, bias, yf, m, POOL);
                                same(yf, yh, what + " m=" + m + " scalar twin");
                                if (Simd.VECTOR) {
                                    java.util.Arrays.fill(yh, 0f);
                                    java.util.Arrays.fill(yf, 0f);
                                    PackedMatmul.matmul(xs, h, bias, yh, m, POOL);
                                    PackedMatmul.matmul(xs, f, bias, yf, m, POOL);
                                    same(yf, yh, what + " m=" + m + " vector");
                                    if (m == 1) {
                                        double[] want = reference(xs, m, k, n, q::get, bias);
                                        close(want, yh, 2e-5, what + " vector vs reference");
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** Quantizer's int8 scales (amax/127 in float32) are not float16 values: such a weight keeps float32 scales. */
    @Test
    void quantizerInt8KeepsFloatScales() {
        try (Arena a = Arena.ofShared()) {
            QuantizedMatrix q = Quantizer.quantize(Tensor.of(x(1, 64 * 96, 5), 64, 96), true, 8, a);
            PackedWeight p = PackedWeight.pack(q, a);
            assertEquals(PackedWeight.Format.Q8, p.format);
            assertTrue(!p.half, p + ": int8 amax/127 scales are not exact float16s");
        }
    }

    private static void same(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(what + ": element " + i + " want " + want[i] + " got " + got[i]);
            }
        }
    }

    private static PackedWeight packed(CpuBackend be, Tensor w) {
        try {
            var m = CpuBackend.class.getDeclaredMethod("packedOf", Tensor.class);
            m.setAccessible(true);
            return (PackedWeight) m.invoke(be, w);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void floatFormatsStaySixteenBitAndMatch() {
        SplittableRandom r = new SplittableRandom(5);
        for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (int[] sh : new int[][] {{45, 64}, {64, 33}, {100, 130}}) {
                int k = sh[0], n = sh[1];
                MemorySegment seg = MemorySegment.ofArray(new byte[k * n * dt.byteSize()]);
                for (long i = 0; i < (long) k * n; i++) {
                    float v = (float) (r.nextDouble() - 0.5);
                    if (i == 3) v = 0f;
                    if (i == 5) v = 1e-6f; // a float16 subnormal
                    switch (dt) {
                        case F32 -> seg.setAtIndex(Tensor.F32_LE, i, v);
                        case BF16 -> seg.setAtIndex(Tensor.I16_LE, i, PackedWeight.toBf16(v));
                        default -> seg.setAtIndex(Tensor.I16_LE, i, Float.floatToFloat16(v));
                    }
                }
                Tensor inOut = new Tensor(dt, new long[] {k, n}, seg);
                try (CpuBackend be = new CpuBackend(POOL)) {
                    Tensor w = be.linearWeight(inOut);
                    assertEquals(dt, w.dtype(), "kept " + dt);
                    PackedWeight pw = packed(be, w);
                    for (int m : new int[] {1, 2, 5, 9}) {
                        float[] xs = x(m, k, m);
                        double[] want = reference(xs, m, k, n, (row, col) -> inOut.getFloat((long) col * n + row), null);
                        float[] y = new float[m * n], ys = new float[m * n];
                        be.linear(Tensor.of(xs, m, k), w, null, Tensor.of(y, m, n));
                        close(want, y, 1e-5, dt + " " + k + "×" + n + " m=" + m);
                        ScalarPackedMatmul.matmul(xs, pw, null, ys, m, POOL);
                        close(want, ys, 1e-5, dt + " scalar " + k + "×" + n + " m=" + m);
                    }
                    // the same weight given [out, in]
                    float[] t = new float[k * n];
                    for (int i = 0; i < k; i++) for (int j = 0; j < n; j++) t[j * k + i] = inOut.getFloat((long) i * n + j);
                    Tensor wt = be.weightTransposed(Tensor.of(t, n, k));
                    float[] xs = x(3, k, 9), y = new float[3 * n];
                    be.linear(Tensor.of(xs, 3, k), wt, null, Tensor.of(y, 3, n));
                    close(reference(xs, 3, k, n, (row, col) -> inOut.getFloat((long) col * n + row), null), y, 1e-5, dt + " transposed");
                }
            }
        }
    }

    @Test
    /** Half a step (int8, int4 asymmetric); int4's symmetric blocks may clip the far end by up to one step. */
    void quantizerErrorIsWithinAStep() {
        SplittableRandom r = new SplittableRandom(11);
        int rows = 40, cols = 96;
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.05f;
        Tensor outIn = Tensor.of(w, rows, cols);
        try (Arena a = Arena.ofConfined()) {
            for (int bits : new int[] {8, 4}) {
                QuantizedMatrix q = Quantizer.quantize(outIn, true, bits, a);
                assertEquals(32, q.blockSize());
                for (int i = 0; i < rows; i++) {
                    for (int c = 0; c < cols; c++) {
                        float step = q.scale(i, c / 32);
                        assertTrue(Math.abs(q.get(i, c) - w[i * cols + c]) <= (bits == 8 ? 0.5 : 1.0) * Math.abs(step) + 1e-7,
                                bits + "-bit (" + i + "," + c + "): " + q.get(i, c) + " vs " + w[i * cols + c]);
                    }
                }
            }
            // [in, out] input gives the same matrix
            float[] t = new float[w.length];
            for (int i = 0; i < rows; i++) for (int c = 0; c < cols; c++) t[c * rows + i] = w[i * cols + c];
            QuantizedMatrix q1 = Quantizer.quantize(outIn, true, 4, a), q2 = Quantizer.quantize(Tensor.of(t, cols, rows), false, 4, a);
            for (int i = 0; i < rows; i++) for (int c = 0; c < cols; c++) assertEquals(q1.get(i, c), q2.get(i, c));
        }
        assertEquals(43, Quantizer.blockSize(172));
        assertEquals(32, Quantizer.blockSize(2048));
    }

    @Test
    void quantizingBackendKeepsTheHeadSixteenBit() {
        SplittableRandom r = new SplittableRandom(3);
        float[] w = new float[64 * 96];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        try (CpuBackend be = new CpuBackend(POOL, DType.F32, new Quantization(4, false))) {
            assertEquals(DType.U8, be.weightTransposed(Tensor.of(w, 64, 96)).dtype());
            assertEquals(DType.BF16, be.headWeight(Tensor.of(w, 64, 96), false).dtype());
        }
        try (CpuBackend be = new CpuBackend(POOL, DType.F32, new Quantization(8, true))) {
            assertEquals(DType.I8, be.headWeight(Tensor.of(w, 96, 64), true).dtype());
        }
    }
}
