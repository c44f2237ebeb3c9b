package dev.cortado.tensor;

import dev.cortado.CortadoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The element-by-element Quantizer as it was before the bulk rewrite (main at 251d098), kept as the oracle of
 * QuantizerBulkTest: the bulk Quantizer must produce the same bytes.
 */
final class ScalarQuantizer {
    public static final int BLOCK = 32;

    private ScalarQuantizer() {}

    /** {@link #BLOCK} when it divides {@code cols}, else the smallest divisor of {@code cols} above it (at worst cols). */
    public static int blockSize(int cols) {
        int bs = BLOCK;
        while (cols % bs != 0) bs++;
        return bs;
    }

    /**
     * Quantizes {@code w} to {@code bits} (8 or 4) in {@code arena}. {@code transposed} false: {@code w} is [in, out]
     * (ONNX MatMul layout); true: [out, in] (PyTorch Linear layout).
     */
    public static QuantizedMatrix quantize(Tensor w, boolean transposed, int bits, Arena arena) {
        if (w.rank() != 2) throw new CortadoException("cannot quantize a " + w.rank() + "-D tensor " + w + " (linear weights are 2-D)");
        if (bits != 8 && bits != 4) throw new CortadoException("quantization to " + bits + " bits: use 8 or 4");
        int rows = (int) w.dim(transposed ? 0 : 1), cols = (int) w.dim(transposed ? 1 : 0);
        if (bits == 4 && (cols & 1) != 0) bits = 8; // int4 rows need an even input count; such a weight stays int8
        int bs = blockSize(cols);
        int nb = cols / bs;
        MemorySegment values = arena.allocate((long) rows * cols * bits / 8, 64);
        MemorySegment scales = arena.allocate((long) rows * nb * 4, 64);
        MemorySegment offsets = bits == 4 ? arena.allocate((long) rows * nb * 4, 64) : null;
        float[] v = new float[bs];
        int[] qa = new int[bs], qs = new int[bs];
        MemorySegment src = w.data();
        boolean unloadRows = transposed && src.isNative() && src.isMapped();   // [out, in]: rows are read in order
        long rowBytes = (long) cols * w.dtype().byteSize(), released = 0;
        for (int r = 0; r < rows; r++) {
            if (unloadRows && (r & 1023) == 0 && r > 0) released = unloadUpTo(src, released, r * rowBytes);
            for (int b = 0; b < nb; b++) {
                for (int i = 0; i < bs; i++) {
                    int c = b * bs + i;
                    v[i] = w.getFloat(transposed ? (long) r * cols + c : (long) c * rows + r);
                }
                long si = ((long) r * nb + b) * 4;
                if (bits == 8) {
                    float amax = 0;
                    for (float x : v) amax = Math.max(amax, Math.abs(x));
                    float d = amax / 127f, inv = d == 0 ? 0 : 1f / d;
                    for (int i = 0; i < bs; i++) {
                        int q = Math.clamp(Math.round(v[i] * inv), -127, 127);
                        values.set(ValueLayout.JAVA_BYTE, (long) r * cols + b * bs + i, (byte) q);
                    }
                    scales.set(Tensor.F32_LE, si, d);
                } else {
                    float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY, signedMax = 0;
                    for (float x : v) {
                        min = Math.min(min, x);
                        max = Math.max(max, x);
                        if (Math.abs(x) > Math.abs(signedMax)) signedMax = x;
                    }
                    // asymmetric: w ≈ sa·q + min; symmetric: w ≈ ds·(q − 8) (scales and min rounded to float16, as GGUF's
                    // Q4_1/Q4_0 store them: the CPU kernels then stream 16-bit scales)
                    min = half(min);
                    float sa = half((max - min) / 15f), ia = sa == 0 ? 0 : 1f / sa;
                    float ds = half(signedMax / -8f), is = ds == 0 ? 0 : 1f / ds;
                    double ea = 0, es = 0;
                    for (int i = 0; i < bs; i++) {
                        qa[i] = Math.clamp(Math.round((v[i] - min) * ia), 0, 15);
                        qs[i] = Math.clamp(Math.round(v[i] * is) + 8, 0, 15);
                        double da = sa * qa[i] + min - v[i], dd = ds * (qs[i] - 8) - v[i];
                        ea += da * da;
                        es += dd * dd;
                    }
                    boolean sym = es < ea;
                    int[] q = sym ? qs : qa;
                    for (int i = 0; i < bs; i++) { // nibble by nibble: an odd block size splits a byte between blocks
                        long c = (long) r * cols + b * bs + i;
                        byte old = values.get(ValueLayout.JAVA_BYTE, c >> 1);
                        values.set(ValueLayout.JAVA_BYTE, c >> 1, (byte) ((c & 1) == 0 ? (old & 0xf0) | q[i] : (old & 0x0f) | q[i] << 4));
                    }
                    scales.set(Tensor.F32_LE, si, sym ? ds : sa);
                    offsets.set(Tensor.F32_LE, si, sym ? -8f * ds : min);
                }
            }
        }
        return new QuantizedMatrix(rows, cols, bits, bs, values, scales, offsets);
    }

    /**
     * int4 in the form ONNX {@code MatMulNBits} stores (what onnxruntime's MatMulNBitsQuantizer and ORT-GenAI's builder
     * write with RTN): blocks of {@link #BLOCK} inputs (32 must divide the input count), {@code w ≈ scale·(q − z)} with an
     * integer zero point {@code z}. {@code zeroPoints} false (the builder's default, symmetric): z = 8 and
     * {@code scale = signed absmax / −8}, this class's symmetric int4; true: {@code scale = (max − min) / 15} over the block's
     * range extended to 0, {@code z = round(−min / scale)}. Offsets are {@code −z·scale} (as Cortado's MatMulNBits reader
     * computes them), so {@code z = −offset / scale} exactly.
     */
    public static QuantizedMatrix quantizeNBits(Tensor w, boolean transposed, boolean zeroPoints, Arena arena) {
        if (w.rank() != 2) throw new CortadoException("cannot quantize a " + w.rank() + "-D tensor " + w + " (linear weights are 2-D)");
        int rows = (int) w.dim(transposed ? 0 : 1), cols = (int) w.dim(transposed ? 1 : 0);
        if (cols % BLOCK != 0) throw new CortadoException("MatMulNBits int4: block size " + BLOCK + " does not divide the " + cols + " inputs of " + w);
        int nb = cols / BLOCK;
        MemorySegment values = arena.allocate((long) rows * cols / 2, 64);
        MemorySegment scales = arena.allocate((long) rows * nb * 4, 64), offsets = arena.allocate((long) rows * nb * 4, 64);
        float[] v = new float[BLOCK];
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < nb; b++) {
                float min = 0, max = 0, signedMax = 0;
                for (int i = 0; i < BLOCK; i++) {
                    int c = b * BLOCK + i;
                    float x = w.getFloat(transposed ? (long) r * cols + c : (long) c * rows + r);
                    v[i] = x;
                    min = Math.min(min, x);
                    max = Math.max(max, x);
                    if (Math.abs(x) > Math.abs(signedMax)) signedMax = x;
                }
                float scale;
                int z;
                if (zeroPoints) {
                    scale = half((max - min) / 15f);
                    z = scale == 0 ? 8 : Math.clamp(Math.round(-min / scale), 0, 15);
                } else {
                    scale = half(signedMax / -8f);
                    z = 8;
                }
                float inv = scale == 0 ? 0 : 1f / scale;
                for (int i = 0; i < BLOCK; i += 2) {
                    int q0 = Math.clamp(Math.round(v[i] * inv) + z, 0, 15), q1 = Math.clamp(Math.round(v[i + 1] * inv) + z, 0, 15);
                    values.set(ValueLayout.JAVA_BYTE, ((long) r * cols + b * BLOCK + i) >> 1, (byte) (q0 | q1 << 4));
                }
                long si = ((long) r * nb + b) * 4;
                scales.set(Tensor.F32_LE, si, scale);
                offsets.set(Tensor.F32_LE, si, -z * scale);
            }
        }
        return new QuantizedMatrix(rows, cols, 4, BLOCK, values, scales, offsets);
    }

    /**
     * v rounded to the nearest float16 when that is finite and keeps a nonzero v nonzero (int4 scales and offsets are
     * then exactly 16-bit, as in GGUF Q4_0/Q4_1 files); otherwise v unchanged.
     */
    static float half(float v) {
        float h = Float.float16ToFloat(Float.floatToFloat16(v));
        return Float.isFinite(h) && (h != 0 || v == 0) ? h : v;
    }

    /**
     * Drops the resident pages of mapped segment {@code s} in [from, to) that a pass over it has finished reading (whole
     * pages only; best effort), so that quantizing a large mapped weight does not keep all of it resident; the new mark.
     */
    static long unloadUpTo(MemorySegment s, long from, long to) {
        long page = 4096, a = (s.address() + from + page - 1) / page * page - s.address(), b = (s.address() + to) / page * page - s.address();
        if (b <= a) return from;
        try {
            s.asSlice(a, b - a).unload();
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return from;
        }
        return b;
    }
}
