package dev.cortado.backend.cpu;

import dev.cortado.CortadoException;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.FloatRows;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A linear weight W[K, N] (K inputs, N outputs) packed once into native memory for the CPU kernels: column panels of
 * {@link #NR} output columns, each panel contiguous, zero-padded on the right.
 * <ul>
 *   <li>{@link Format#F32}, {@link Format#BF16}, {@link Format#F16}: a panel is K rows of NR elements
 *       (element (k, j) at {@code (k·NR + j)·esize}); 16-bit formats stay 16-bit and are widened in registers.</li>
 *   <li>{@link Format#Q8}, {@link Format#Q4}: a panel is K/B blocks of B inputs (B = {@link #blockSize}); a block holds
 *       the codes (Q8: B rows of NR signed bytes; Q4: B/2 rows of NR bytes, input 2i in the low nibble and 2i+1 in the
 *       high nibble, unsigned 0..15), then NR float32 scales, then (when {@link #offsets}) NR float32 offsets:
 *       {@code w = scale·code + offset} ({@link QuantizedMatrix}'s convention). A Q4 weight whose every scale and
 *       offset is exactly a finite float16 (GGUF Q4_0/Q4_1, {@link dev.cortado.tensor.Quantizer}'s int4) stores them as
 *       float16 ({@link #half}): 5 bits per weight instead of 6, which decode streams from DRAM. Likewise a Q8 weight
 *       whose every scale (and offset) is exactly a float16 (GGUF Q8_0): 8.5 bits per weight instead of 9, the GGUF
 *       file's own size; Quantizer's int8 (float32 scales amax/127 per block) is rarely exact and keeps float32.</li>
 * </ul>
 * No {@code jdk.incubator.vector} type appears here: this class and {@link ScalarPackedMatmul} run without the module.
 */
final class PackedWeight {
    enum Format { F32, BF16, F16, Q8, Q4 }

    /** Output columns per panel: two float vectors (16 on the scalar path). */
    static final int NR = Simd.VECTOR ? 2 * CpuMatmul.L : 16;

    final Format format;
    final int k, n, blockSize;
    final boolean offsets;
    /** Q8/Q4: the block's scales and offsets are float16 (NR × 2 bytes each) instead of float32 (every one was exactly a float16). */
    final boolean half;
    /**
     * Q4 only: every offset was −8·scale (symmetric int4: GGUF Q4_0, MatMulNBits without zero points), so no offsets are
     * stored ({@link #offsets} false) and {@code w = scale·(code − 8)}.
     */
    final boolean centred;
    final MemorySegment data;
    final long panelBytes, blockBytes;
    /**
     * Q4 only, not part of the packed bytes: every row multiplies this weight through {@link Q4Int8Matmul} (activations
     * quantized to int8 per block) instead of the float kernels; set by the backend before first use.
     */
    boolean int8Activations;

    private PackedWeight(Format format, int k, int n, int blockSize, boolean offsets, Arena arena) {
        this(format, k, n, blockSize, offsets, false, false, arena);
    }

    private PackedWeight(Format format, int k, int n, int blockSize, boolean offsets, boolean half, boolean centred, Arena arena) {
        this(format, k, n, blockSize, offsets, half, centred, arena, null);
    }

    /** Allocates its panels in {@code arena}, or (arena null) takes {@code data}, which must be exactly that size. */
    private PackedWeight(Format format, int k, int n, int blockSize, boolean offsets, boolean half, boolean centred, Arena arena, MemorySegment data) {
        this.format = format;
        this.half = half;
        this.centred = centred;
        this.k = k;
        this.n = n;
        this.blockSize = blockSize;
        this.offsets = offsets;
        long codes = switch (format) {
            case F32 -> (long) blockSize * NR * 4;
            case BF16, F16 -> (long) blockSize * NR * 2;
            case Q8 -> (long) blockSize * NR;
            case Q4 -> (long) blockSize / 2 * NR;
        };
        boolean quant = format == Format.Q8 || format == Format.Q4;
        this.blockBytes = codes + (quant ? (offsets ? 2L : 1L) * NR * scaleBytes() : 0);
        this.panelBytes = blockBytes * (k / blockSize);
        if (arena != null) this.data = arena.allocate(panelBytes * panels(), 64);
        else if (data.byteSize() != panelBytes * panels() || data.address() % 64 != 0 || !data.isNative()) {
            throw new IllegalArgumentException("packed " + format + " " + k + "×" + n + " needs " + panelBytes * panels()
                    + " native bytes aligned to 64, got " + data);
        } else this.data = data;
    }

    /**
     * A packed weight over panels someone else holds (a mapped pack-cache file, {@link PackCache}): {@code data} must be
     * native, 64-byte aligned and exactly the size this layout needs (else IllegalArgumentException). Read only.
     */
    static PackedWeight wrap(Format format, int k, int n, int blockSize, boolean offsets, boolean half, boolean centred, MemorySegment data) {
        if (k <= 0 || n <= 0 || blockSize <= 0 || k % blockSize != 0) throw new IllegalArgumentException("packed weight " + k + "×" + n + " block " + blockSize);
        boolean quant = format == Format.Q8 || format == Format.Q4;
        if (!quant && (blockSize != k || offsets || half || centred) || format == Format.Q4 && (blockSize & 1) != 0
                || centred && (format != Format.Q4 || offsets)) {
            throw new IllegalArgumentException("inconsistent packed layout " + format + " block " + blockSize);
        }
        return new PackedWeight(format, k, n, blockSize, offsets, half, centred, null, data);
    }

    /** Bytes of one scale / offset: 2 when {@link #half}, else 4. */
    int scaleBytes() {
        return half ? 2 : 4;
    }

    int panels() {
        return (n + NR - 1) / NR;
    }

    int blocks() {
        return k / blockSize;
    }

    boolean quantized() {
        return format == Format.Q8 || format == Format.Q4;
    }

    /** Bytes of the packed weight (what a GEMV streams). */
    long bytes() {
        return data.byteSize();
    }

    /**
     * Packs a float weight: {@code transposed} false means {@code src} is [K, N] (ONNX MatMul layout), true means
     * [N, K] (PyTorch Linear layout). {@code target} F32, BF16 or F16; the source may be any float type.
     */
    static PackedWeight pack(Tensor src, boolean transposed, DType target, Arena arena) {
        if (src.rank() != 2) throw new IllegalArgumentException("linear weight must be 2-D: " + src);
        int k = (int) src.dim(transposed ? 1 : 0), n = (int) src.dim(transposed ? 0 : 1);
        Format f = switch (target) {
            case F32 -> Format.F32;
            case BF16 -> Format.BF16;
            case F16 -> Format.F16;
            default -> throw new CortadoException("the CPU backend stores linear weights as f32, bf16 or f16, not " + target);
        };
        PackedWeight p = new PackedWeight(f, k, n, k, false, arena);
        MemorySegment s = src.data(), d = p.data;
        DType sd = src.dtype();
        boolean raw16 = (sd == DType.BF16 && f == Format.BF16) || (sd == DType.F16 && f == Format.F16);
        long esize = f == Format.F32 ? 4 : 2;
        if (!transposed && (raw16 || (sd == DType.F32 && f == Format.F32))) {
            // [K, N] in the target type: row kk of a panel is a contiguous slice of source row kk
            for (int pi = 0, panels = p.panels(); pi < panels; pi++) {
                int j0 = pi * NR, width = Math.min(NR, n - j0);
                long base = pi * p.panelBytes;
                for (int kk = 0; kk < k; kk++) MemorySegment.copy(s, ((long) kk * n + j0) * esize, d, base + kk * NR * esize, width * esize);
            }
            return p;
        }
        // otherwise a panel's NR source rows (output columns) are read in bulk, converted into a heap panel, copied once;
        // a [N, K] source is read NR rows per panel, in order: its mapped pages are let go as the packing passes them (every
        // 64 panels), so that packing a large table (a tied vocabulary head) never holds the whole source and the packed
        // copy at once. Panels are independent: the 64 of a stretch run on all cores when the segments allow it.
        boolean unloadRows = transposed && s.isNative() && s.isMapped();
        boolean parallel = shared(s) && shared(d);
        long rowBytes = (long) k * sd.byteSize(), released = 0;
        FloatPanels[] scratch = new FloatPanels[Runtime.getRuntime().availableProcessors()];   // per part, reused by every stretch
        for (int c0 = 0, panels = p.panels(); c0 < panels; c0 += 64) {
            if (unloadRows && c0 > 0) released = unloadUpTo(s, released, (long) c0 * NR * rowBytes);
            int c1 = Math.min(panels, c0 + 64);
            forParts(c0, c1, parallel, (t, a, b) -> {
                FloatPanels fb = scratch[t] != null ? scratch[t] : (scratch[t] = new FloatPanels(src, transposed, raw16, p.format, k));
                p.packFloatPanels(fb, raw16, a, b);
            });
        }
        return p;
    }

    /** A part of a range: part {@code t} of the split runs [from, to). */
    private interface Part {
        void run(int t, int from, int to);
    }

    /** Runs {@code body} over [from, to) split into one part per core (parallel), or at once (part 0). */
    private static void forParts(int from, int to, boolean parallel, Part body) {
        int parts = parallel ? Math.min(Runtime.getRuntime().availableProcessors(), to - from) : 1;
        if (parts <= 1) {
            body.run(0, from, to);
            return;
        }
        int per = (to - from + parts - 1) / parts;
        java.util.stream.IntStream.range(0, parts).parallel().forEach(t -> {
            int a = from + t * per, b = Math.min(to, a + per);
            if (a < b) body.run(t, a, b);
        });
    }

    /** The buffers of one part of a float packing: a reader and one panel's source rows and converted panel. */
    private static final class FloatPanels {
        final MemorySegment s;
        final FloatRows rows;
        final float[] in, fp;
        final short[] raw, sp;

        FloatPanels(Tensor src, boolean transposed, boolean raw16, Format f, int k) {
            s = src.data();
            rows = raw16 ? null : new FloatRows(src, transposed);
            in = raw16 ? null : new float[NR * k];
            fp = f == Format.F32 ? new float[NR * k] : null;
            raw = raw16 ? new short[NR * k] : null;
            sp = f == Format.F32 ? null : new short[NR * k];
        }
    }

    private static final Thread PROBE = Thread.ofVirtual().unstarted(() -> {});

    /** Whether threads other than the caller may access {@code m} (not a confined arena's). */
    static boolean shared(MemorySegment m) {
        return m.isAccessibleBy(PROBE);
    }

    /** Packs float panels [pi0, pi1) of this weight from {@code src} (see {@link #pack(Tensor, boolean, DType, Arena)}). */
    private void packFloatPanels(FloatPanels buffers, boolean raw16, int pi0, int pi1) {
        Format f = format;
        MemorySegment s = buffers.s, d = data;
        FloatRows rows = buffers.rows;
        float[] in = buffers.in, fp = buffers.fp;
        short[] raw = buffers.raw, sp = buffers.sp;
        for (int pi = pi0; pi < pi1; pi++) {
            int j0 = pi * NR, width = Math.min(NR, n - j0);
            if (width < NR) {   // the last panel's padding columns are zero
                if (fp != null) java.util.Arrays.fill(fp, 0f);
                else java.util.Arrays.fill(sp, (short) 0);
            }
            if (raw16) {   // transposed here: the panel's rows are contiguous
                MemorySegment.copy(s, Tensor.I16_LE, (long) j0 * k * 2, raw, 0, width * k);
                for (int j = 0; j < width; j++) for (int kk = 0; kk < k; kk++) sp[kk * NR + j] = raw[j * k + kk];
            } else {
                rows.read(j0, width, in);
                for (int j = 0; j < width; j++) {
                    for (int kk = 0, o = j * k; kk < k; kk++) {
                        float v = in[o + kk];
                        if (f == Format.F32) fp[kk * NR + j] = v;
                        else sp[kk * NR + j] = f == Format.BF16 ? toBf16(v) : Float.floatToFloat16(v);
                    }
                }
            }
            long base = pi * panelBytes;
            if (fp != null) MemorySegment.copy(fp, 0, d, Tensor.F32_LE, base, k * NR);
            else MemorySegment.copy(sp, 0, d, Tensor.I16_LE, base, k * NR);
        }
    }

    /** Drops the resident pages of mapped segment {@code s} in [from, to) (whole pages inside it); returns the new mark. */
    static long unloadUpTo(MemorySegment s, long from, long to) {
        long page = 4096, a = (s.address() + from + page - 1) / page * page - s.address(), b = (s.address() + to) / page * page - s.address();
        if (b > a) {
            try {
                s.asSlice(a, b - a).unload();
            } catch (RuntimeException | UnsatisfiedLinkError e) {
                return from; // best effort: only the peak RSS is affected
            }
            return b;
        }
        return from;
    }

    /** Packs a quantized weight ([out, in] = [N, K]) keeping its codes: 4-bit stays 4-bit (odd block sizes: as 8-bit codes). */
    static PackedWeight pack(QuantizedMatrix q, Arena arena) {
        return pack(q, arena, true);
    }

    /** As above; halfScales false keeps float32 scales even when every one is a float16 (tests: the reference layout). */
    static PackedWeight pack(QuantizedMatrix q, Arena arena, boolean halfScales) {
        int k = q.cols(), n = q.rows(), bs = q.blockSize();
        Format f = q.bits() == 4 && (bs & 1) == 0 ? Format.Q4 : Format.Q8;
        boolean centred = f == Format.Q4 && centred(q);
        PackedWeight p = new PackedWeight(f, k, n, bs, q.offsets() != null && !centred, halfScales && halfExact(q), centred, arena);
        // each panel is assembled in a heap buffer from its NR rows' codes, scales and offsets (read in bulk), then
        // copied once (per-element segment accesses were a large part of a --quantize load); panels run on all cores
        forParts(0, p.panels(), shared(q.values()) && shared(q.scales()) && (q.offsets() == null || shared(q.offsets())) && shared(p.data),
                (t, a, b) -> p.packQuantPanels(q, a, b));
        return p;
    }

    /** Packs quantized panels [pi0, pi1) of this weight from {@code q} (see {@link #pack(QuantizedMatrix, Arena, boolean)}). */
    private void packQuantPanels(QuantizedMatrix q, int pi0, int pi1) {
        Format f = format;
        int bs = blockSize, nb = blocks(), rowBytes = q.bits() == 8 ? k : k / 2;
        long codeBytes = f == Format.Q8 ? (long) bs * NR : (long) bs / 2 * NR;
        byte[] panel = new byte[Math.toIntExact(panelBytes)], row = new byte[rowBytes], codes = new byte[k];
        MemorySegment ps = MemorySegment.ofArray(panel);
        float[] sc = new float[nb], of = new float[nb];
        for (int pi = pi0; pi < pi1; pi++) {
            int j0 = pi * NR, width = Math.min(NR, n - j0);
            if (width < NR) java.util.Arrays.fill(panel, (byte) 0);   // the last panel's padding columns are zero
            for (int j = 0; j < width; j++) {
                int r = j0 + j;
                MemorySegment.copy(q.values(), ValueLayout.JAVA_BYTE, (long) r * rowBytes, row, 0, rowBytes);
                if (q.bits() == 8) System.arraycopy(row, 0, codes, 0, k);
                else for (int c = 0; c < k; c += 2) {
                    codes[c] = (byte) (row[c >> 1] & 0x0f);
                    codes[c + 1] = (byte) ((row[c >> 1] & 0xff) >>> 4);
                }
                MemorySegment.copy(q.scales(), Tensor.F32_LE, (long) r * nb * 4, sc, 0, nb);
                if (offsets) MemorySegment.copy(q.offsets(), Tensor.F32_LE, (long) r * nb * 4, of, 0, nb);
                for (int b = 0; b < nb; b++) {
                    int base = Math.toIntExact(b * blockBytes), c0 = b * bs;
                    if (f == Format.Q8) {
                        for (int kk = 0; kk < bs; kk++) panel[base + kk * NR + j] = codes[c0 + kk];
                    } else {
                        for (int kp = 0; kp < bs / 2; kp++) panel[base + kp * NR + j] = (byte) (codes[c0 + 2 * kp] | codes[c0 + 2 * kp + 1] << 4);
                    }
                    if (half) {
                        ps.set(Tensor.I16_LE, base + codeBytes + 2L * j, Float.floatToFloat16(sc[b]));
                        if (offsets) ps.set(Tensor.I16_LE, base + codeBytes + 2L * NR + 2L * j, Float.floatToFloat16(of[b]));
                    } else {
                        ps.set(Tensor.F32_LE, base + codeBytes + 4L * j, sc[b]);
                        if (offsets) ps.set(Tensor.F32_LE, base + codeBytes + 4L * NR + 4L * j, of[b]);
                    }
                }
            }
            MemorySegment.copy(panel, 0, data, ValueLayout.JAVA_BYTE, pi * panelBytes, panel.length);
        }
    }

    /** Whether every scale and offset of {@code q} is a finite float16 exactly (then they are stored in 16 bits, losslessly). */
    static boolean halfExact(QuantizedMatrix q) {
        int nb = q.cols() / q.blockSize();
        for (int r = 0; r < q.rows(); r++) {
            for (int b = 0; b < nb; b++) {
                if (!isHalf(q.scale(r, b)) || (q.offsets() != null && !isHalf(q.offset(r, b)))) return false;
            }
        }
        return true;
    }

    /** Whether {@code q} has offsets and every one is exactly −8·scale. */
    static boolean centred(QuantizedMatrix q) {
        if (q.offsets() == null) return false;
        int nb = q.cols() / q.blockSize();
        for (int r = 0; r < q.rows(); r++) {
            for (int b = 0; b < nb; b++) if (q.offset(r, b) != -8f * q.scale(r, b)) return false;
        }
        return true;
    }

    private static boolean isHalf(float v) {
        return Float.isFinite(v) && Float.floatToRawIntBits(Float.float16ToFloat(Float.floatToFloat16(v))) == Float.floatToRawIntBits(v);
    }

    /** Scale of panel column j in the block at byte offset o (codeBytes: the block's code bytes). */
    private float scaleAt(long o, long codeBytes, int j) {
        return half ? Float.float16ToFloat(data.get(Tensor.I16_LE, o + codeBytes + 2L * j)) : data.get(Tensor.F32_LE, o + codeBytes + 4L * j);
    }

    /** Offset of panel column j in the block at byte offset o (0 without offsets). */
    private float offsetAt(long o, long codeBytes, int j) {
        if (centred) return -8f * scaleAt(o, codeBytes, j);
        if (!offsets) return 0f;
        long at = o + codeBytes + (long) NR * scaleBytes();
        return half ? Float.float16ToFloat(data.get(Tensor.I16_LE, at + 2L * j)) : data.get(Tensor.F32_LE, at + 4L * j);
    }

    /** Widens panel {@code pi} into {@code dst[k·NR + j]} (scalar; the reference decoding of every format). */
    void decodePanel(int pi, float[] dst) {
        long base = pi * panelBytes;
        switch (format) {
            case F32 -> MemorySegment.copy(data, Tensor.F32_LE, base, dst, 0, k * NR);
            case BF16 -> {
                for (int i = 0, e = k * NR; i < e; i++) dst[i] = bf16(data.get(Tensor.I16_LE, base + 2L * i));
            }
            case F16 -> {
                for (int i = 0, e = k * NR; i < e; i++) dst[i] = Float.float16ToFloat(data.get(Tensor.I16_LE, base + 2L * i));
            }
            case Q8, Q4 -> {
                int bs = blockSize;
                long codeBytes = format == Format.Q8 ? (long) bs * NR : (long) bs / 2 * NR;
                for (int b = 0; b < blocks(); b++) {
                    long o = base + b * blockBytes;
                    for (int j = 0; j < NR; j++) {
                        float s = scaleAt(o, codeBytes, j), off = offsetAt(o, codeBytes, j);
                        for (int kk = 0; kk < bs; kk++) dst[(b * bs + kk) * NR + j] = s * code(o, kk, j) + off;
                    }
                }
            }
        }
    }

    /** The code of input {@code kk} of a Q8/Q4 block at byte offset {@code o}, panel column {@code j} (Q4: low nibble first). */
    private int code(long o, int kk, int j) {
        if (format == Format.Q8) return data.get(ValueLayout.JAVA_BYTE, o + (long) kk * NR + j);
        int v = data.get(ValueLayout.JAVA_BYTE, o + (long) (kk >> 1) * NR + j) & 0xff;
        return (kk & 1) == 0 ? v & 0x0f : v >>> 4;
    }

    /**
     * Output column {@code col} of W (all K inputs) widened into {@code dst[off, off + k)}: the row of a tied
     * embedding table read from its vocabulary head (the table is W transposed). Decodes exactly as
     * {@link #decodePanel} does, so the values equal what an embedding table quantized/rounded the same way holds.
     */
    void column(int col, float[] dst, int off) {
        if (col < 0 || col >= n) throw new IllegalArgumentException("column " + col + " outside " + this);
        int pi = col / NR, j = col % NR;
        long base = pi * panelBytes;
        switch (format) {
            case F32 -> {
                for (int kk = 0; kk < k; kk++) dst[off + kk] = data.get(Tensor.F32_LE, base + ((long) kk * NR + j) * 4);
            }
            case BF16 -> {
                for (int kk = 0; kk < k; kk++) dst[off + kk] = bf16(data.get(Tensor.I16_LE, base + ((long) kk * NR + j) * 2));
            }
            case F16 -> {
                for (int kk = 0; kk < k; kk++) dst[off + kk] = Float.float16ToFloat(data.get(Tensor.I16_LE, base + ((long) kk * NR + j) * 2));
            }
            case Q8, Q4 -> {
                int bs = blockSize;
                long codeBytes = format == Format.Q8 ? (long) bs * NR : (long) bs / 2 * NR;
                for (int b = 0; b < blocks(); b++) {
                    long o = base + b * blockBytes;
                    float s = scaleAt(o, codeBytes, j), offset = offsetAt(o, codeBytes, j);
                    for (int kk = 0; kk < bs; kk++) dst[off + b * bs + kk] = s * code(o, kk, j) + offset;
                }
            }
        }
    }

    static float bf16(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** float32 → bfloat16 bits, round to nearest even (NaN stays NaN). */
    static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        return Float.isNaN(v) ? (short) ((bits >>> 16) | 0x40) : (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    @Override
    public String toString() {
        return "PackedWeight[" + format + " " + k + "×" + n + (quantized() ? " block " + blockSize + (offsets ? " +offsets" : "") + (half ? " f16 scales" : "") + (centred ? " centred" : "") : "") + "]";
    }
}
