package dev.cortado.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * int8/int4 block kernels over {@link PackedWeight} Q8/Q4 panels, dequantizing in registers: L code bytes are loaded,
 * widened to L float lanes (Q4: zero-extended to int lanes once, the byte and its high nibble feeding two inputs through
 * {@link #q4Pairs}, so no byte shifts or masks), multiplied with the broadcast
 * activation and accumulated per block; at the end of a block {@code y += scale·Σ x·q + offset·Σ x}, where Σ x per
 * block is computed once per activation row. GEMV streams each panel once; GEMM widens a panel into float32 scratch
 * ({@link #decode}) for the register tiles of {@link PackedMatmul}.
 */
final class QuantMatmul {
    static final VectorSpecies<Float> F = CpuMatmul.F;
    static final int L = F.length();
    static final int NR = 2 * L;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Byte vectors of L lanes exist for L ≥ 8 (256/512-bit float vectors); narrower machines use the scalar kernels. */
    static final boolean SUPPORTED = L >= 8;
    private static final VectorSpecies<Byte> B = SUPPORTED ? VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * L)) : null;
    private static final VectorSpecies<Integer> I = SUPPORTED ? VectorSpecies.of(int.class, F.vectorShape()) : null;
    private static final VectorSpecies<Short> SH = SUPPORTED ? VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L)) : null;

    private QuantMatmul() {}

    /** Σ x over each block of row 0 (the offsets' multiplier); null when the weight has no offsets. */
    static float[] blockSums(float[] x, int xo, int k, int bs) {
        return blockSums(x, xo, k, bs, new float[k / bs]);
    }

    /** {@link #blockSums} into s (length ≥ k / bs). */
    static float[] blockSums(float[] x, int xo, int k, int bs, float[] s) {
        for (int b = 0, nb = k / bs; b < nb; b++) {
            float a = 0;
            for (int i = xo + b * bs, e = i + bs; i < e; i++) a += x[i];
            s[b] = a;
        }
        return s;
    }

    /**
     * Per-thread buffers of the GEMV's caller (block sums, Q4 pairs) and of every pool thread (a quad's outputs), kept
     * between calls instead of fresh arrays per call and chunk; a GEMV never runs inside another on one thread.
     */
    private static final ThreadLocal<float[]> SUMS = new ThreadLocal<>(), PAIRS = new ThreadLocal<>(), OUT = new ThreadLocal<>();

    private static float[] buffer(ThreadLocal<float[]> tl, int n) {
        float[] a = tl.get();
        if (a == null || a.length < n) tl.set(a = new float[n]);
        return a;
    }

    /**
     * The Q4 GEMV's activation pairs: for each input pair (x₂ᵢ, x₂ᵢ₊₁) it holds (x₂ᵢ, x₂ᵢ₊₁ − 16·x₂ᵢ), because a code
     * byte b = lo + 16·hi zero-extended gives {@code x₂ᵢ·lo + x₂ᵢ₊₁·hi = x₂ᵢ·b + (x₂ᵢ₊₁ − 16·x₂ᵢ)·(b >>> 4)}: one
     * shift per byte and no mask, instead of splitting the nibbles.
     */
    static float[] q4Pairs(float[] x, int k) {
        return q4Pairs(x, k, new float[k]);
    }

    /** {@link #q4Pairs} into t (length ≥ k). */
    static float[] q4Pairs(float[] x, int k, float[] t) {
        for (int i = 0; i + 1 < k; i += 2) {
            t[i] = x[i];
            t[i + 1] = x[i + 1] - 16f * x[i];
        }
        return t;
    }

    static void gemv(float[] x, PackedWeight w, float[] bias, float[] y, WorkerPool pool) {
        int n = w.n, panels = w.panels(), quads = (panels + 3) / 4;
        float[] sums = w.offsets || w.centred ? blockSums(x, 0, w.k, w.blockSize, buffer(SUMS, w.blocks())) : null;
        if (w.centred) for (int b = 0; b < w.blocks(); b++) sums[b] *= -8f; // y += scale·(Σ x·code − 8·Σ x)
        boolean q4 = w.format == PackedWeight.Format.Q4, four = !q4;
        float[] xq = q4 ? q4Pairs(x, w.k, buffer(PAIRS, w.k)) : x;
        pool.parallelFor(quads, (q0, q1) -> {
            float[] tmp = buffer(OUT, 4 * NR);
            for (int q = q0; q < q1; q++) {
                int p = 4 * q;
                if (four && p + 3 < panels) {
                    GemvKernels.q8x4(x, sums, w, p, tmp);
                    for (int r = 0; r < 4; r++, p++) PackedMatmul.store(tmp, r * NR, y, p * NR, Math.min(NR, n - p * NR), bias, p * NR);
                } else {
                    for (int e = Math.min(panels, p + 4); p < e; p++) {
                        if (q4) panelQ4(xq, sums, w, p, tmp);
                        else panelQ8(xq, sums, w, p, tmp);
                        PackedMatmul.store(tmp, 0, y, p * NR, Math.min(NR, n - p * NR), bias, p * NR);
                    }
                }
            }
        });
    }

    private static FloatVector q8(MemorySegment s, long o) {
        return (FloatVector) ByteVector.fromMemorySegment(B, s, o, LE).convertShape(VectorOperators.B2F, F, 0);
    }

    private static FloatVector f32(MemorySegment s, long o) {
        return FloatVector.fromMemorySegment(F, s, o, LE);
    }

    /** Per-thread float32 copies of a panel's scales/offsets ({@link #widen}). */
    private static final ThreadLocal<float[]> SCALES = new ThreadLocal<>();

    /**
     * Panel p's per-block scales and offsets widened to float32 for {@link #decode}: block b's scales at
     * [b·2NR, b·2NR + NR), its offsets (the weight's own, {@code −8·scale} when centred, else unwritten) at
     * [b·2NR + NR, (b+1)·2NR), in a per-thread buffer. The decode loops then read plain arrays: with the float16
     * widening inlined four times per block, C2's inlining budget (NodeCountInliningCutoff) ran out and the conversions
     * ran the Vector API's Java fallback (14 MB of garbage per 16-row int4 GEMM). The batch-1 GEMV does not use this:
     * a pass over a panel's scales before its codes defeats the prefetcher on DRAM-resident weights (decode 0.78×).
     */
    static float[] widen(PackedWeight w, int p) {
        int nb = w.blocks();
        float[] t = buffer(SCALES, nb * 2 * NR);
        long codeBytes = w.format == PackedWeight.Format.Q4 ? (long) w.blockSize / 2 * NR : (long) w.blockSize * NR;
        if (w.half) widenHalf(w.data, p * w.panelBytes + codeBytes, w.blockBytes, nb, w.offsets, w.centred, t);
        else widenFloat(w.data, p * w.panelBytes + codeBytes, w.blockBytes, nb, w.offsets, w.centred, t);
        return t;
    }

    private static void widenHalf(MemorySegment s, long so, long bb, int nb, boolean offsets, boolean centred, float[] t) {
        for (int b = 0, d = 0; b < nb; b++, so += bb, d += 2 * NR) {
            FloatVector s0 = h16(s, so), s1 = h16(s, so + 2L * L);
            s0.intoArray(t, d);
            s1.intoArray(t, d + L);
            if (offsets) {
                h16(s, so + 2L * NR).intoArray(t, d + NR);
                h16(s, so + 2L * NR + 2L * L).intoArray(t, d + NR + L);
            } else if (centred) {
                s0.mul(-8f).intoArray(t, d + NR);
                s1.mul(-8f).intoArray(t, d + NR + L);
            }
        }
    }

    private static void widenFloat(MemorySegment s, long so, long bb, int nb, boolean offsets, boolean centred, float[] t) {
        for (int b = 0, d = 0; b < nb; b++, so += bb, d += 2 * NR) {
            FloatVector s0 = f32(s, so), s1 = f32(s, so + 4L * L);
            s0.intoArray(t, d);
            s1.intoArray(t, d + L);
            if (offsets) {
                f32(s, so + 4L * NR).intoArray(t, d + NR);
                f32(s, so + 4L * NR + 4L * L).intoArray(t, d + NR + L);
            } else if (centred) {
                s0.mul(-8f).intoArray(t, d + NR);
                s1.mul(-8f).intoArray(t, d + NR + L);
            }
        }
    }

    private static void panelQ8(float[] x, float[] sums, PackedWeight w, int p, float[] out) {
        MemorySegment s = w.data;
        int bs = w.blockSize, nb = w.blocks();
        long codeBytes = (long) bs * NR, eb = w.scaleBytes();
        boolean half = w.half;
        FloatVector y0 = FloatVector.zero(F), y1 = y0;
        long ob = p * w.panelBytes;
        for (int b = 0; b < nb; b++, ob += w.blockBytes) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, c0 = a0, c1 = a0;
            int xo = b * bs, kk = 0;
            long o = ob;
            for (; kk <= bs - 2; kk += 2, o += 2L * NR) {
                FloatVector xv = FloatVector.broadcast(F, x[xo + kk]), xw = FloatVector.broadcast(F, x[xo + kk + 1]);
                a0 = q8(s, o).fma(xv, a0);
                a1 = q8(s, o + L).fma(xv, a1);
                c0 = q8(s, o + NR).fma(xw, c0);
                c1 = q8(s, o + NR + L).fma(xw, c1);
            }
            if (kk < bs) {
                FloatVector xv = FloatVector.broadcast(F, x[xo + kk]);
                a0 = q8(s, o).fma(xv, a0);
                a1 = q8(s, o + L).fma(xv, a1);
            }
            long so = ob + codeBytes;
            y0 = a0.add(c0).fma(scales(s, so, half), y0);
            y1 = a1.add(c1).fma(scales(s, so + eb * L, half), y1);
            if (sums != null) {
                FloatVector sx = FloatVector.broadcast(F, sums[b]);
                long oo = so + eb * NR;
                y0 = scales(s, oo, half).fma(sx, y0);
                y1 = scales(s, oo + eb * L, half).fma(sx, y1);
            }
        }
        y0.intoArray(out, 0);
        y1.intoArray(out, L);
    }

    /** x: {@link #q4Pairs} of the activation row; sums: Σ x per block (centred weights: −8·Σ x), null without offsets. */
    private static void panelQ4(float[] x, float[] sums, PackedWeight w, int p, float[] out) {
        MemorySegment s = w.data;
        int bs = w.blockSize, nb = w.blocks();
        long codeBytes = (long) bs / 2 * NR, eb = w.scaleBytes();
        boolean half = w.half, centred = w.centred;
        FloatVector y0 = FloatVector.zero(F), y1 = y0;
        long ob = p * w.panelBytes;
        for (int b = 0; b < nb; b++, ob += w.blockBytes) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, c0 = a0, c1 = a0;
            long o = ob;
            for (int kk = b * bs, e = kk + bs; kk < e; kk += 2, o += NR) {
                IntVector v0 = bytes(s, o), v1 = bytes(s, o + L);
                FloatVector xv = FloatVector.broadcast(F, x[kk]), xw = FloatVector.broadcast(F, x[kk + 1]);
                a0 = i2f(v0).fma(xv, a0);
                a1 = i2f(v1).fma(xv, a1);
                c0 = i2f(v0.lanewise(VectorOperators.LSHR, 4)).fma(xw, c0);
                c1 = i2f(v1.lanewise(VectorOperators.LSHR, 4)).fma(xw, c1);
            }
            long so = ob + codeBytes;
            FloatVector t0 = a0.add(c0), t1 = a1.add(c1);
            if (centred) {
                FloatVector z = FloatVector.broadcast(F, sums[b]);
                t0 = t0.add(z);
                t1 = t1.add(z);
            }
            y0 = t0.fma(scales(s, so, half), y0);
            y1 = t1.fma(scales(s, so + eb * L, half), y1);
            if (!centred && sums != null) {
                FloatVector sx = FloatVector.broadcast(F, sums[b]);
                long oo = so + eb * NR;
                y0 = scales(s, oo, half).fma(sx, y0);
                y1 = scales(s, oo + eb * L, half).fma(sx, y1);
            }
        }
        y0.intoArray(out, 0);
        y1.intoArray(out, L);
    }

    /** L scales (or offsets) at byte offset o: float16 when {@code half}, else float32. */
    static FloatVector scales(MemorySegment s, long o, boolean half) {
        return half ? h16(s, o) : f32(s, o);
    }

    /**
     * L float16 values at byte offset o widened exactly to float32 (finite values: {@link PackedWeight#half} holds no
     * others): the sign-extended 16 bits shifted left by 13 put the sign at bit 31 and exponent+mantissa at bits 27..13;
     * the mask clears bits 30..28 (copies of the sign) and multiplying by 2^112 rebiases the exponent (subnormals included).
     */
    static FloatVector h16(MemorySegment s, long o) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(SH, s, o, LE).convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f);
    }

    /** L code bytes zero-extended to int lanes (one widening load; the nibbles are split with int shifts, not byte shifts). */
    private static IntVector bytes(MemorySegment s, long o) {
        return (IntVector) ByteVector.fromMemorySegment(B, s, o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
    }

    private static FloatVector i2f(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    private static FloatVector lo(IntVector v) {
        return i2f(v.and(0x0f));
    }

    private static FloatVector hi(IntVector v) {
        return i2f(v.lanewise(VectorOperators.LSHR, 4));
    }

    /** Dequantizes panel p into dst[k·NR + j] = scale·code + offset (float32 scratch for the GEMM tiles). */
    static void decode(PackedWeight w, int p, float[] dst) {
        float[] sc = widen(w, p);
        if (w.format == PackedWeight.Format.Q4) decodeQ4(w, p, sc, dst);
        else decodeQ8(w, p, sc, dst);
    }

    /** sc: {@link #widen}'s scales and offsets (offsets zero when the weight has neither offsets nor centring). */
    private static void decodeQ4(PackedWeight w, int p, float[] sc, float[] dst) {
        MemorySegment s = w.data;
        int bs = w.blockSize, nb = w.blocks();
        long codeBytes = (long) bs / 2 * NR;
        boolean off = w.offsets || w.centred;
        long ob = p * w.panelBytes;
        FloatVector zero = FloatVector.zero(F);
        for (int b = 0; b < nb; b++, ob += w.blockBytes) {
            int c = b * 2 * NR;
            FloatVector s0 = FloatVector.fromArray(F, sc, c), s1 = FloatVector.fromArray(F, sc, c + L);
            FloatVector o0 = off ? FloatVector.fromArray(F, sc, c + NR) : zero, o1 = off ? FloatVector.fromArray(F, sc, c + NR + L) : zero;
            int d = b * bs * NR;
            for (long o = ob, e = ob + codeBytes; o < e; o += NR, d += 2 * NR) {
                IntVector v0 = bytes(s, o), v1 = bytes(s, o + L);
                lo(v0).fma(s0, o0).intoArray(dst, d);
                lo(v1).fma(s1, o1).intoArray(dst, d + L);
                hi(v0).fma(s0, o0).intoArray(dst, d + NR);
                hi(v1).fma(s1, o1).intoArray(dst, d + NR + L);
            }
        }
    }

    private static void decodeQ8(PackedWeight w, int p, float[] sc, float[] dst) {
        MemorySegment s = w.data;
        int bs = w.blockSize, nb = w.blocks();
        long codeBytes = (long) bs * NR;
        boolean off = w.offsets;
        long ob = p * w.panelBytes;
        FloatVector zero = FloatVector.zero(F);
        for (int b = 0; b < nb; b++, ob += w.blockBytes) {
            int c = b * 2 * NR;
            FloatVector s0 = FloatVector.fromArray(F, sc, c), s1 = FloatVector.fromArray(F, sc, c + L);
            FloatVector o0 = off ? FloatVector.fromArray(F, sc, c + NR) : zero, o1 = off ? FloatVector.fromArray(F, sc, c + NR + L) : zero;
            int d = b * bs * NR;
            for (long o = ob, e = ob + codeBytes; o < e; o += NR, d += NR) {
                q8(s, o).fma(s0, o0).intoArray(dst, d);
                q8(s, o + L).fma(s1, o1).intoArray(dst, d + L);
            }
        }
    }
}
