package dev.cortado.tensor;

import dev.cortado.CortadoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Round-to-nearest quantization of a float weight into a {@link QuantizedMatrix} ({@code --quantize}), blocks of
 * {@link #BLOCK} inputs (when 32 does not divide the input count: the smallest divisor above 32, e.g. 43 for 172).
 * <ul>
 *   <li>int8: symmetric, {@code scale = max|w| / 127}, codes −127..127, no offsets (the layout of GGUF Q8_0).</li>
 *   <li>int4: each block gets whichever of two encodings has the lower squared error on that block: min–max
 *       asymmetric ({@code scale = (max − min) / 15}, {@code offset = min}, codes 0..15; GGUF Q4_1's form), or
 *       symmetric ({@code w = d·(q − 8)} with {@code d = w_absmax / −8}, i.e. offset {@code −8·d}; GGUF Q4_0's form).
 *       Scales and the min are rounded to float16 (as GGUF stores them), so that the packed CPU weight keeps them in
 *       16 bits. The asymmetric one nearly always wins (it spends all 16 levels on the block's range); the symmetric one wins
 *       on blocks centred on zero with one outlier. The matrix therefore always carries offsets.</li>
 * </ul>
 */
public final class Quantizer {
    public static final int BLOCK = 32;

    private Quantizer() {}

    /** {@link #BLOCK} when it divides {@code cols}, else the smallest divisor of {@code cols} above it (at worst cols). */
    public static int blockSize(int cols) {
        if (cols <= BLOCK) return cols; // (the search below never ended for fewer than 32 inputs)
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
        // rows are read in bulk into a float[] (one copy per row, or per 16-row slice of an [in, out] column), quantized
        // there, and their codes, scales and offsets written back one copy each (element-wise segment accesses were most
        // of a --quantize load); rows are independent, so chunks of rows run on all cores when every segment allows it
        MemorySegment data = w.data();
        boolean unloadRows = transposed && data.isNative() && data.isMapped();   // [out, in]: rows are read in order
        boolean parallel = rows >= 2 * PARALLEL_ROWS && shared(data) && shared(values);
        long rowBytes = (long) cols * w.dtype().byteSize(), released = 0;
        int b4 = bits, maxParts = parallel ? Runtime.getRuntime().availableProcessors() : 1;
        Scratch[] scratch = new Scratch[maxParts];   // one per part, reused by every stretch (no garbage per stretch)
        for (int c0 = 0; c0 < rows; c0 += 1024) {
            if (unloadRows && c0 > 0) released = unloadUpTo(data, released, c0 * rowBytes);
            int c1 = Math.min(rows, c0 + 1024), start = c0;
            int parts = Math.min(maxParts, (c1 - c0 + PARALLEL_ROWS - 1) / PARALLEL_ROWS);
            if (parts <= 1) quantizeRows(w, transposed, b4, bs, c0, c1, values, scales, offsets, scratch, 0);
            else {
                int per = ((c1 - c0 + parts - 1) / parts + FloatRows.GROUP - 1) / FloatRows.GROUP * FloatRows.GROUP;
                java.util.stream.IntStream.range(0, parts).parallel().forEach(t -> {
                    int r0 = start + t * per, r1 = Math.min(c1, r0 + per);
                    if (r0 < r1) quantizeRows(w, transposed, b4, bs, r0, r1, values, scales, offsets, scratch, t);
                });
            }
        }
        return new QuantizedMatrix(rows, cols, bits, bs, values, scales, offsets);
    }

    /** Rows a parallel quantization hands each core at least. */
    private static final int PARALLEL_ROWS = 64;
    private static final Thread PROBE = Thread.ofVirtual().unstarted(() -> {});

    /** Whether threads other than the caller may access {@code s} (not a confined arena's). */
    private static boolean shared(MemorySegment s) {
        return s.isAccessibleBy(PROBE);
    }

    /** The buffers of one part of a quantization (a reader, a row group of floats, one row's codes, scales, offsets). */
    private static final class Scratch {
        final FloatRows src;
        final float[] buf, sc, of;
        final byte[] nibbles, codes;
        final int[] qa, qs;

        Scratch(Tensor w, boolean transposed, int bits, int bs) {
            src = new FloatRows(w, transposed);
            int cols = src.cols(), nb = cols / bs;
            buf = new float[(transposed ? 1 : FloatRows.GROUP) * cols];
            nibbles = new byte[cols];
            codes = new byte[bits == 8 ? cols : cols / 2];
            sc = new float[nb];
            of = new float[nb];
            qa = new int[bs];
            qs = new int[bs];
        }
    }

    /** Quantizes rows [r0, r1) of {@code w} (see {@link #quantize}) into the matrix's segments, with part {@code t}'s buffers. */
    private static void quantizeRows(Tensor w, boolean transposed, int bits, int bs, int r0, int r1, MemorySegment values,
                                     MemorySegment scales, MemorySegment offsets, Scratch[] scratch, int t) {
        Scratch s = scratch[t] != null ? scratch[t] : (scratch[t] = new Scratch(w, transposed, bits, bs));
        FloatRows src = s.src;
        int cols = src.cols(), nb = cols / bs;
        int group = transposed ? 1 : FloatRows.GROUP;
        float[] buf = s.buf, sc = s.sc, of = s.of;
        byte[] nibbles = s.nibbles, codes = s.codes;
        int[] qa = s.qa, qs = s.qs;
        for (int g0 = r0; g0 < r1; g0 += group) {
            int g = Math.min(group, r1 - g0);
            src.read(g0, g, buf);
            for (int j = 0; j < g; j++) {
                int r = g0 + j, at = j * cols;
                if (bits == 8) {
                    for (int b = 0; b < nb; b++) sc[b] = int8Block(buf, at + b * bs, bs, codes, b * bs);
                    MemorySegment.copy(codes, 0, values, ValueLayout.JAVA_BYTE, (long) r * cols, cols);
                } else {
                    for (int b = 0; b < nb; b++) int4Block(buf, at + b * bs, bs, nibbles, b * bs, qa, qs, sc, of, b);
                    for (int i = 0; i < codes.length; i++) codes[i] = (byte) (nibbles[2 * i] | nibbles[2 * i + 1] << 4);
                    MemorySegment.copy(codes, 0, values, ValueLayout.JAVA_BYTE, (long) r * cols / 2, codes.length);
                    MemorySegment.copy(of, 0, offsets, Tensor.F32_LE, (long) r * nb * 4, nb);
                }
                MemorySegment.copy(sc, 0, scales, Tensor.F32_LE, (long) r * nb * 4, nb);
            }
        }
    }

    /** Symmetric int8 of v[at, at + bs) into codes[to, to + bs); the block's scale. */
    private static float int8Block(float[] v, int at, int bs, byte[] codes, int to) {
        float amax = 0;
        for (int i = 0; i < bs; i++) amax = Math.max(amax, Math.abs(v[at + i]));
        float d = amax / 127f, inv = d == 0 ? 0 : 1f / d;
        for (int i = 0; i < bs; i++) codes[to + i] = (byte) Math.clamp(Math.round(v[at + i] * inv), -127, 127);
        return d;
    }

    /**
     * int4 of v[at, at + bs) into nibbles[to, to + bs) (one code 0..15 a byte), its scale into sc[b] and offset into of[b]:
     * whichever of the min–max and the symmetric encoding has the lower squared error (the class comment).
     */
    private static void int4Block(float[] v, int at, int bs, byte[] nibbles, int to, int[] qa, int[] qs, float[] sc, float[] of, int b) {
        // one simple loop per quantity, so that C2 vectorizes each (a loop computing several at once stays scalar, and
        // scalar Math.round is slow); the same values as one pass: min/max are order-free, and signedMax is the first
        // element of largest magnitude, found by a scan once that magnitude is known
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY, amax = 0, signedMax = 0;
        for (int i = 0; i < bs; i++) {
            float x = v[at + i];
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        for (int i = 0; i < bs; i++) amax = Math.max(amax, Math.abs(v[at + i]));
        if (Float.isNaN(amax)) {   // a NaN never wins the comparison below
            for (int i = 0; i < bs; i++) if (Math.abs(v[at + i]) > Math.abs(signedMax)) signedMax = v[at + i];
        } else if (amax > 0) {
            for (int i = 0; i < bs; i++) {
                if (Math.abs(v[at + i]) == amax) {
                    signedMax = v[at + i];
                    break;
                }
            }
        }
        // asymmetric: w ≈ sa·q + min; symmetric: w ≈ ds·(q − 8) (scales and min rounded to float16, as GGUF's
        // Q4_1/Q4_0 store them: the CPU kernels then stream 16-bit scales)
        min = half(min);
        float sa = half((max - min) / 15f), ia = sa == 0 ? 0 : 1f / sa;
        float ds = half(signedMax / -8f), is = ds == 0 ? 0 : 1f / ds;
        for (int i = 0; i < bs; i++) qa[i] = Math.clamp(Math.round((v[at + i] - min) * ia), 0, 15);
        for (int i = 0; i < bs; i++) qs[i] = Math.clamp(Math.round(v[at + i] * is) + 8, 0, 15);
        double ea = 0, es = 0;
        for (int i = 0; i < bs; i++) {   // squared errors summed in order, in double: the comparison below must not move
            float x = v[at + i];
            double da = sa * qa[i] + min - x, dd = ds * (qs[i] - 8) - x;
            ea += da * da;
            es += dd * dd;
        }
        boolean sym = es < ea;
        int[] q = sym ? qs : qa;
        for (int i = 0; i < bs; i++) nibbles[to + i] = (byte) q[i];
        sc[b] = sym ? ds : sa;
        of[b] = sym ? -8f * ds : min;
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
        float[] v = new float[cols];
        FloatRows src = new FloatRows(w, transposed);
        for (int r = 0; r < rows; r++) {
            src.read(r, 1, v);
            for (int b = 0; b < nb; b++) {
                float min = 0, max = 0, signedMax = 0;
                for (int i = 0; i < BLOCK; i++) {
                    float x = v[b * BLOCK + i];
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
                    int q0 = Math.clamp(Math.round(v[b * BLOCK + i] * inv) + z, 0, 15), q1 = Math.clamp(Math.round(v[b * BLOCK + i + 1] * inv) + z, 0, 15);
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
