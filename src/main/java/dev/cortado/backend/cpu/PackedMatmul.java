package dev.cortado.backend.cpu;

import dev.cortado.backend.Backend.Activation;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * y[M,N] = x[M,K] · W[K,N] (+ b) over a {@link PackedWeight} (column panels of NR columns in native memory).
 * <ul>
 *   <li>GEMV (M = 1, decode): streams each panel once at full memory bandwidth, widening 16-bit weights and
 *       dequantizing int8/int4 blocks in registers ({@link QuantMatmul}); float32 four panels per pass.</li>
 *   <li>GEMM: tasks = (block of {@link #ROWS} rows) × panel, panel-fastest so a row block stays in L2. float32 panels
 *       are read in place by the 8×2 (AVX-512) / 4×2 register tiles; other formats are first widened into a float32
 *       scratch panel (once per task, amortized over up to 64 rows) and run the same tiles.</li>
 * </ul>
 * Reached only when {@link Simd#VECTOR}; {@link ScalarPackedMatmul} is the scalar twin.
 */
final class PackedMatmul {
    static final VectorSpecies<Float> F = CpuMatmul.F;
    static final int L = F.length();
    static final int NR = 2 * L;
    static final long LB = 4L * L, NRB = 4L * NR;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Rows per GEMM task at most (a multiple of the register tiles; see {@link #rowsPerTask}). */
    static final int ROWS = 64;
    /** Inputs up to this size (bytes) take the row-block-fastest task order (see matmul). */
    static final long X_IN_L2 = 512 << 10;
    /**
     * 8 rows × 2 vectors: 16 accumulators + 2 weight vectors + a broadcast fit AVX-512's 32 registers (on 16-register
     * AVX2 they would spill, so the 4-row tile is used there): twice the FMAs per weight load of tile4.
     */
    static final boolean TILE8 = L >= 16 && !Boolean.getBoolean("cortado.gemm.tile4");

    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

    private PackedMatmul() {}

    /**
     * Per-thread float32 panel scratch of the 16-bit/quantized GEMM, kept between calls: a fresh k·NR array per task
     * and call was the largest steady allocation of a prefill. A task never runs inside another on one thread.
     */
    private static final ThreadLocal<float[]> SCRATCH = new ThreadLocal<>();

    static float[] scratch(int n) {
        float[] a = SCRATCH.get();
        if (a == null || a.length < n) SCRATCH.set(a = new float[n]);
        return a;
    }

    static void matmul(float[] x, PackedWeight w, float[] bias, float[] y, int m, WorkerPool pool) {
        matmul(x, w, bias, null, y, m, pool);
    }

    /**
     * As above, then y = act(y) (act may be null); the GEMM applies it in its epilogue, to each task's rows while
     * they are in L1 (no second pass over y).
     */
    static void matmul(float[] x, PackedWeight w, float[] bias, Activation act, float[] y, int m, WorkerPool pool) {
        if (w.quantized() && !QuantMatmul.SUPPORTED) {
            ScalarPackedMatmul.matmul(x, w, bias, y, m, pool);
            if (act != null) CpuActivations.apply(y, 0, m * w.n, act);
            return;
        }
        if (w.int8Activations && Q4Int8Matmul.supports(w)) {
            Q4Int8Matmul.matmul(x, w, bias, y, m, pool);
            if (act != null) CpuActivations.apply(y, 0, m * w.n, act);
            return;
        }
        if (m == 1) {
            if (w.quantized()) QuantMatmul.gemv(x, w, bias, y, pool);
            else gemv(x, w, bias, y, pool);
            if (act != null) CpuActivations.apply(y, 0, w.n, act);
            return;
        }
        boolean inPlace = w.format == PackedWeight.Format.F32;
        if (inPlace && m == 4 && TILE8) {
            fourRows(x, w, bias, act, y, pool);
            return;
        }
        // finer tasks only for float32 panels (read in place): a widened panel is decoded once per task that needs it
        int k = w.k, n = w.n, panels = w.panels(), rowsPerTask = inPlace ? rowsPerTask(m, k, panels, pool.threads()) : ROWS;
        int blocks = (m + rowsPerTask - 1) / rowsPerTask;
        // task order: panel-fastest keeps a row block in L2 while the weights stream past (large M); when all of x fits
        // in L2 (an encoder at batch 1: M = 128), row-block-fastest instead runs every row block on a panel while that
        // panel is in L2, so the weights are read from memory once per call instead of once per row block
        boolean rowsFastest = blocks > 1 && (long) m * k * 4 <= X_IN_L2;
        // one task per claim, so that the threads finish within one task of each other; a widened (non-float32) panel
        // is claimed with all its row blocks (rows-fastest), so that one core decodes it once
        Balanced.run(pool, blocks * panels, rowsFastest && !inPlace ? blocks : 1, c -> {
            float[] tmp = tile();
            float[] scratch = inPlace ? null : scratch(k * NR);
            int decoded = -1;
            while (c.next()) for (int t = c.from(); t < c.to(); t++) {
                int p = rowsFastest ? t / blocks : t % panels, r0 = (rowsFastest ? t % blocks : t / panels) * rowsPerTask;
                int r1 = Math.min(m, r0 + rowsPerTask);
                int j0 = p * NR, width = Math.min(NR, n - j0);
                MemorySegment panel = null;
                if (inPlace) {
                    // the panel sliced once per task (the tiles index it from 0, so C2 drops their bounds checks)
                    panel = w.data.asSlice(p * w.panelBytes, k * NRB);
                } else if (decoded != p) {
                    decode(w, p, scratch);
                    decoded = p;
                }
                int i = r0;
                if (TILE8) for (; i <= r1 - 8; i += 8) rows(8, x, panel, scratch, i, k, y, n, j0, width, bias, act, tmp);
                for (; i <= r1 - 4; i += 4) rows(4, x, panel, scratch, i, k, y, n, j0, width, bias, act, tmp);
                for (; i < r1; i++) rows(1, x, panel, scratch, i, k, y, n, j0, width, bias, act, tmp);
            }
        });
    }

    /**
     * M = 4 over float32 panels read in place (a decode step at batch 4, or 4 beams): two panels per task through
     * {@link TileKernels#tile4x2} (two weight streams per thread), the activation right after; a last odd or narrower
     * panel through {@link #rows}. The same operations per output as the general path, so the same bits.
     */
    private static void fourRows(float[] x, PackedWeight w, float[] bias, Activation act, float[] y, WorkerPool pool) {
        int k = w.k, n = w.n, panels = w.panels();
        Balanced.run(pool, (panels + 1) / 2, 1, c -> {
            float[] tmp = tile();
            while (c.next()) for (int t = c.from(); t < c.to(); t++) {
                int p = 2 * t, j0 = p * NR;
                if (p + 1 < panels && n - j0 >= 2 * NR) {
                    MemorySegment a = w.data.asSlice(p * w.panelBytes, k * NRB), b = w.data.asSlice((p + 1) * w.panelBytes, k * NRB);
                    TileKernels.tile4x2(x, a, b, 0, k, y, j0, n, bias, j0);
                    if (act != null) {
                        VectorActivations.applyRows(y, j0, n, 4, act);
                        VectorActivations.applyRows(y, j0 + NR, n, 4, act);
                    }
                } else {
                    for (; p < Math.min(panels, 2 * t + 2); p++) {
                        MemorySegment a = w.data.asSlice(p * w.panelBytes, k * NRB);
                        rows(4, x, a, null, 0, k, y, n, p * NR, Math.min(NR, n - p * NR), bias, act, tmp);
                    }
                }
            }
        });
    }

    /**
     * y rows i .. i+count-1 (count 8, 4 or 1) of panel columns [j0, j0 + width) = x rows · panel (+ bias), then act:
     * the panel is float32 read in place ({@code panel}) or widened into {@code scratch}. A full-width panel's 8- and
     * 4-row tiles store straight into y and run act over their rows right after, while those rows are in L1 (over a
     * whole task's rows at the end, y's rows 6 KB apart had left L1 and shared a few of its sets: an up projection at
     * batch 32 paid 3-10 ms per call for GELU, varying from run to run); single rows and a narrower last panel go
     * through the scratch tile {@code tmp} and {@link #store}. Same float operations either way, so the same bits.
     */
    private static void rows(int count, float[] x, MemorySegment panel, float[] scratch, int i, int k, float[] y, int n,
                             int j0, int width, float[] bias, Activation act, float[] tmp) {
        boolean direct = width == NR && count > 1;
        float[] out = direct ? y : tmp;
        int o0 = direct ? i * n + j0 : 0, os = direct ? n : NR;
        float[] b = direct ? bias : null;
        if (count == 8) {
            if (panel != null) TileKernels.tile8(x, panel, i, k, out, o0, os, b, j0);
            else TileKernels.tile8(x, scratch, 0, i, k, out, o0, os, b, j0);
        } else if (count == 4) {
            if (panel != null) TileKernels.tile4(x, panel, i, k, out, o0, os, b, j0);
            else TileKernels.tile4(x, scratch, 0, i, k, out, o0, os, b, j0);
        } else if (panel != null) {
            TileKernels.row1(x, panel, 0, i, k, tmp);
        } else {
            TileKernels.row1(x, scratch, 0, i, k, tmp);
        }
        if (width == NR) {
            // a full-width row's activation runs as one small loop per activation (applyRows) rather than through
            // store's per-vector switch over all four formulas, where GELU(erf) cost 2.5× as much
            if (!direct) store(tmp, 0, y, i * n + j0, width, bias, j0);
            if (act != null) VectorActivations.applyRows(y, i * n + j0, n, count, act);
        } else {
            for (int r = 0; r < count; r++) store(tmp, r * NR, y, (i + r) * n + j0, width, bias, j0, act);
        }
    }

    /** Per-thread 8 × NR tile of accumulators (see {@link #SCRATCH}). */
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[8 * NR]);

    static float[] tile() {
        return TILE.get();
    }

    /** GEMM tasks wanted per thread: the threads finish within one task of each other, so finer tasks waste less. */
    static final int TASKS_PER_THREAD = 32;

    /**
     * Bytes of a task's row block of x that should stay in L2 while the panels stream past it (large M): rows per task
     * go up from {@link #ROWS} to {@link #MAX_ROWS} while the block fits, so the weights are read from memory once per
     * MAX_ROWS rows instead of once per 64 (an encoder at batch 32, 4096 rows, k = 384: 16 times per GEMM, not 64).
     */
    static final long X_BLOCK_BYTES = Long.getLong("cortado.gemm.xBlockBytes", 384L << 10);
    static final int MAX_ROWS = 256;

    /**
     * Rows per GEMM task: {@link #ROWS}, doubled (up to {@link #MAX_ROWS}) while the row block stays within
     * {@link #X_BLOCK_BYTES} and there are at least {@link #TASKS_PER_THREAD} tasks per thread, or halved (down to 8,
     * one AVX-512 tile) while there are fewer. An encoder at batch 1 (128 rows) ran its n = 384 projections as 24
     * tasks on 2 threads, so the last task (≈ 1/12 of each thread's share) often ran alone; 16-row tasks make it 96.
     * Task boundaries stay multiples of 8 rows, so every row goes through the same tile kernel as before: the same
     * bits whatever the split.
     */
    static int rowsPerTask(int m, int k, int panels, int threads) {
        int rows = ROWS;
        long want = (long) TASKS_PER_THREAD * Math.max(1, threads);
        while (rows < MAX_ROWS && 8L * rows * k <= X_BLOCK_BYTES && (long) ((m + 2 * rows - 1) / (2 * rows)) * panels >= want) {
            rows *= 2;
        }
        while (threads > 1 && rows > 8 && (long) ((m + rows - 1) / rows) * panels < want) rows /= 2;
        return rows;
    }

    /** Widens panel p of a non-float32 weight into dst[k·NR + j] with vector loads. */
    static void decode(PackedWeight w, int p, float[] dst) {
        switch (w.format) {
            case BF16, F16 -> {
                boolean f16 = w.format == PackedWeight.Format.F16;
                long o = p * w.panelBytes;
                for (int i = 0, e = w.k * NR; i < e; i += L, o += 2L * L) wide16(w.data, o, f16).intoArray(dst, i);
            }
            case Q8, Q4 -> QuantMatmul.decode(w, p, dst);
            case F32 -> MemorySegment.copy(w.data, java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, p * w.panelBytes, dst, 0, w.k * NR);
        }
    }

    /**
     * A tile row into y: + bias, then act, in registers for a full panel (the same float adds and activation formula
     * as {@link #store} followed by {@link CpuActivations#apply}); the last, narrower panel takes the scalar route.
     */
    static void store(float[] tmp, int from, float[] y, int to, int width, float[] bias, int j0, Activation act) {
        if (width == NR) {
            FloatVector a = FloatVector.fromArray(F, tmp, from), b = FloatVector.fromArray(F, tmp, from + L);
            if (bias != null) {
                a = a.add(FloatVector.fromArray(F, bias, j0));
                b = b.add(FloatVector.fromArray(F, bias, j0 + L));
            }
            if (act != null) {
                a = VectorActivations.vector(a, act);
                b = VectorActivations.vector(b, act);
            }
            a.intoArray(y, to);
            b.intoArray(y, to + L);
            return;
        }
        store(tmp, from, y, to, width, bias, j0);
        if (act != null) CpuActivations.apply(y, to, to + width, act);
    }

    static void store(float[] tmp, int from, float[] y, int to, int width, float[] bias, int j0) {
        if (bias == null) {
            System.arraycopy(tmp, from, y, to, width);
        } else {
            for (int j = 0; j < width; j++) y[to + j] = tmp[from + j] + bias[j0 + j];
        }
    }

    private static void gemv(float[] x, PackedWeight w, float[] bias, float[] y, WorkerPool pool) {
        int k = w.k, n = w.n, panels = w.panels(), quads = (panels + 3) / 4;
        boolean f32 = w.format == PackedWeight.Format.F32, f16 = w.format == PackedWeight.Format.F16;
        boolean bf16 = w.format == PackedWeight.Format.BF16 && GemvKernels.BF16_LANES;
        pool.parallelFor(quads, (q0, q1) -> {
            float[] tmp = gemvTmp();
            // the float32 kernel reads with int offsets: the weight itself when it is < 2 GiB, else one slice per chunk
            // (when that is < 2 GiB), not four asSlice per call (C2 compiles gemv4 from its loop's profile and leaves
            // asSlice at its entry out of line: each slice was an allocation)
            boolean whole = w.data.byteSize() <= Integer.MAX_VALUE;
            long c0 = whole ? 0 : 4L * q0 * w.panelBytes, c1 = Math.min((long) panels, 4L * q1) * w.panelBytes;
            MemorySegment chunk = !f32 ? null : whole ? w.data : c1 - c0 <= Integer.MAX_VALUE ? w.data.asSlice(c0, c1 - c0) : null;
            for (int q = q0; q < q1; q++) {
                int p = 4 * q;
                if (p + 3 < panels) {
                    if (f32 && chunk != null) gemv4(x, chunk, (int) (p * w.panelBytes - c0), (int) w.panelBytes, k, tmp);
                    else if (f32) gemv4(x, w.data.asSlice(p * w.panelBytes, 4 * w.panelBytes), 0, (int) w.panelBytes, k, tmp);
                    else if (bf16) GemvKernels.bf16x4(x, w.data, p * w.panelBytes, w.panelBytes, k, tmp);
                    else gemv4Wide(x, w.data, p * w.panelBytes, w.panelBytes, k, tmp, f16);
                    for (int r = 0; r < 4; r++) store(tmp, r * NR, y, (p + r) * NR, Math.min(NR, n - (p + r) * NR), bias, (p + r) * NR);
                } else {
                    for (; p < panels; p++) {
                        if (f32) TileKernels.row1(x, w.data, p * w.panelBytes, 0, k, tmp);
                        else if (bf16) GemvKernels.bf16x1(x, w.data, p * w.panelBytes, w.panelBytes, k, tmp);
                        else row1Wide(x, w.data, p * w.panelBytes, k, tmp, f16);
                        store(tmp, 0, y, p * NR, Math.min(NR, n - p * NR), bias, p * NR);
                    }
                }
            }
        });
    }

    /** The GEMV's per-thread output tile [4·NR], kept between calls (a fresh one per chunk was ~200 KB per token). */
    private static final ThreadLocal<float[]> GEMV_TMP = ThreadLocal.withInitial(() -> new float[4 * NR]);

    static float[] gemvTmp() {
        return GEMV_TMP.get();
    }

    /**
     * Four consecutive float32 panels (byte base, base + stride, …) of slice w against one input row, indexed with
     * int offsets: C2 then removes the bounds checks from the loop (long-indexed it does not, at 2-3× the cost).
     */
    private static void gemv4(float[] x, MemorySegment w, int base, int stride, int k, float[] out) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        final int nrb = (int) NRB, lb = (int) LB, sb = base + stride, sc = base + 2 * stride, sd = base + 3 * stride;
        for (int kk = 0; kk < k; kk++) {
            int o = kk * nrb;
            FloatVector xv = FloatVector.broadcast(F, x[kk]);
            a0 = FloatVector.fromMemorySegment(F, w, base + o, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, w, base + o + lb, LE).fma(xv, a1);
            b0 = FloatVector.fromMemorySegment(F, w, sb + o, LE).fma(xv, b0);
            b1 = FloatVector.fromMemorySegment(F, w, sb + o + lb, LE).fma(xv, b1);
            c0 = FloatVector.fromMemorySegment(F, w, sc + o, LE).fma(xv, c0);
            c1 = FloatVector.fromMemorySegment(F, w, sc + o + lb, LE).fma(xv, c1);
            d0 = FloatVector.fromMemorySegment(F, w, sd + o, LE).fma(xv, d0);
            d1 = FloatVector.fromMemorySegment(F, w, sd + o + lb, LE).fma(xv, d1);
        }
        a0.intoArray(out, 0); a1.intoArray(out, L);
        b0.intoArray(out, NR); b1.intoArray(out, NR + L);
        c0.intoArray(out, 2 * NR); c1.intoArray(out, 2 * NR + L);
        d0.intoArray(out, 3 * NR); d1.intoArray(out, 3 * NR + L);
    }

    /** {@link #gemv4} over bfloat16 or float16 panels (2-byte elements, widened in registers). */
    private static void gemv4Wide(float[] x, MemorySegment w, long base, long stride, int k, float[] out, boolean f16) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        long o = base, lb = 2L * L;
        for (int kk = 0; kk < k; kk++, o += 2L * NR) {
            FloatVector xv = FloatVector.broadcast(F, x[kk]);
            a0 = wide16(w, o, f16).fma(xv, a0);
            a1 = wide16(w, o + lb, f16).fma(xv, a1);
            b0 = wide16(w, o + stride, f16).fma(xv, b0);
            b1 = wide16(w, o + stride + lb, f16).fma(xv, b1);
            c0 = wide16(w, o + 2 * stride, f16).fma(xv, c0);
            c1 = wide16(w, o + 2 * stride + lb, f16).fma(xv, c1);
            d0 = wide16(w, o + 3 * stride, f16).fma(xv, d0);
            d1 = wide16(w, o + 3 * stride + lb, f16).fma(xv, d1);
        }
        a0.intoArray(out, 0); a1.intoArray(out, L);
        b0.intoArray(out, NR); b1.intoArray(out, NR + L);
        c0.intoArray(out, 2 * NR); c1.intoArray(out, 2 * NR + L);
        d0.intoArray(out, 3 * NR); d1.intoArray(out, 3 * NR + L);
    }

    private static void row1Wide(float[] x, MemorySegment w, long base, int k, float[] out, boolean f16) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        long o = base, lb = 2L * L;
        for (int kk = 0; kk < k; kk++, o += 2L * NR) {
            FloatVector xv = FloatVector.broadcast(F, x[kk]);
            a0 = wide16(w, o, f16).fma(xv, a0);
            a1 = wide16(w, o + lb, f16).fma(xv, a1);
        }
        a0.intoArray(out, 0);
        a1.intoArray(out, L);
    }

    /** L 16-bit floats at byte offset o widened to float32: bfloat16 (shift) or IEEE float16 (f16 true). */
    static FloatVector wide16(MemorySegment w, long o, boolean f16) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, w, o, LE).convertShape(VectorOperators.S2I, I, 0);
        if (!f16) return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        // float16 → float32: move exponent+mantissa into place and rescale by 2^112 (exact for normals and
        // subnormals); infinities/NaNs get the all-ones exponent; then the sign
        IntVector mag = h.and(0x7fff), shifted = mag.lanewise(VectorOperators.LSHL, 13);
        IntVector bits = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = mag.compare(VectorOperators.GE, 0x7c00);
        bits = bits.blend(shifted.or(0x7f800000), special);
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }
}
