package dev.cortado.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The batch-1 (decode) GEMV kernels over four consecutive {@link PackedWeight} panels at once: one broadcast of the
 * activation feeds eight weight vectors, eight independent accumulator chains hide the FMA latency, and each panel is a
 * slice indexed with int offsets (C2 then drops the bounds checks, which long offsets into the whole segment keep).
 * <ul>
 *   <li>bfloat16: a row of NR bf16 is read as L int lanes, lane j holding columns 2j (low half) and 2j+1 (high half);
 *       {@code v << 16} is column 2j as a float and {@code v & 0xFFFF0000} column 2j+1 — no widening conversion —
 *       and the two accumulators are interleaved back once per panel.</li>
 *   <li>int8 / int4 blocks: as {@link QuantMatmul}'s single-panel kernels (codes widened in registers, the block's
 *       scale and offset applied once per block), four panels per pass.</li>
 * </ul>
 * Results equal the single-panel kernels' up to float summation order (bf16: bit-identical).
 */
final class GemvKernels {
    static final VectorSpecies<Float> F = CpuMatmul.F;
    static final int L = F.length();
    static final int NR = 2 * L;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Byte> B = QuantMatmul.SUPPORTED ? VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * L)) : null;
    private static final int HI = 0xFFFF0000;

    /**
     * The bf16 int-lane kernel is off by default: on the Zen 4 test host it ran 1.13× faster than the widening kernel
     * on a cache-resident 768×3072 panel set but 1.3-1.8× slower streaming the 77 MB GPT-2 head from DRAM (in-process
     * A/B, single thread), and decode streams. -Dcortado.gemv.bf16lanes=true turns it on for measurements.
     */
    static final boolean BF16_LANES = Boolean.getBoolean("cortado.gemv.bf16lanes");

    private GemvKernels() {}

    /** Four bf16 panels starting at byte {@code base}, {@code stride} bytes apart (stride = k·NR·2), into out[0, 4·NR). */
    static void bf16x4(float[] x, MemorySegment w, long base, long stride, int k, float[] out) {
        FloatVector ae = FloatVector.zero(F), ao = ae, be = ae, bo = ae, ce = ae, co = ae, de = ae, dO = ae;
        long o = base;
        for (int kk = 0; kk < k; kk++, o += 2L * NR) {
            FloatVector xv = FloatVector.broadcast(F, x[kk]);
            IntVector va = IntVector.fromMemorySegment(I, w, o, LE), vb = IntVector.fromMemorySegment(I, w, o + stride, LE);
            IntVector vc = IntVector.fromMemorySegment(I, w, o + 2 * stride, LE), vd = IntVector.fromMemorySegment(I, w, o + 3 * stride, LE);
            ae = va.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, ae);
            ao = va.and(HI).reinterpretAsFloats().fma(xv, ao);
            be = vb.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, be);
            bo = vb.and(HI).reinterpretAsFloats().fma(xv, bo);
            ce = vc.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, ce);
            co = vc.and(HI).reinterpretAsFloats().fma(xv, co);
            de = vd.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, de);
            dO = vd.and(HI).reinterpretAsFloats().fma(xv, dO);
        }
        interleave(ae, ao, out, 0);
        interleave(be, bo, out, NR);
        interleave(ce, co, out, 2 * NR);
        interleave(de, dO, out, 3 * NR);
    }

    /** One bf16 panel (the tail of {@link #bf16x4}). */
    static void bf16x1(float[] x, MemorySegment w, long base, long stride, int k, float[] out) {
        FloatVector ae = FloatVector.zero(F), ao = ae;
        long o = base;
        for (int kk = 0; kk < k; kk++, o += 2L * NR) {
            FloatVector xv = FloatVector.broadcast(F, x[kk]);
            IntVector va = IntVector.fromMemorySegment(I, w, o, LE);
            ae = va.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, ae);
            ao = va.and(HI).reinterpretAsFloats().fma(xv, ao);
        }
        interleave(ae, ao, out, 0);
    }

    /** out[at + 2j] = even[j], out[at + 2j + 1] = odd[j] (through a per-thread scratch: Vector.lane(j) with a variable j is not intrinsified). */
    private static void interleave(FloatVector even, FloatVector odd, float[] out, int at) {
        float[] t = SCRATCH.get();
        even.intoArray(t, 0);
        odd.intoArray(t, L);
        for (int j = 0; j < L; j++) {
            out[at + 2 * j] = t[j];
            out[at + 2 * j + 1] = t[L + j];
        }
    }

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[NR]);

    private static FloatVector q8(MemorySegment s, long o) {
        return (FloatVector) ByteVector.fromMemorySegment(B, s, o, LE).convertShape(VectorOperators.B2F, F, 0);
    }

    private static FloatVector f32(MemorySegment s, long o) {
        return FloatVector.fromMemorySegment(F, s, o, LE);
    }

    /** L scales (or offsets) at byte offset o: float16 widened exactly ({@link QuantMatmul#h16}) when {@code half}, else float32. */
    private static FloatVector sc(MemorySegment s, boolean half, long o) {
        return half ? QuantMatmul.h16(s, o) : f32(s, o);
    }

    /**
     * Panels p..p+3 of a Q8 weight into out[0, 4·NR); sums: Σ x per block when the weight has offsets, else null.
     * (Q4 keeps {@link QuantMatmul}'s single-panel kernel: a multi-panel Q4 body measured 2× slower, its widening
     * conversions not intrinsified by C2.)
     */
    static void q8x4(float[] x, float[] sums, PackedWeight w, int p, float[] out) {
        long base = p * w.panelBytes, pb = w.panelBytes;
        q8x4Body(x, sums, w, w.data, base, pb, out);
    }

    private static void q8x4Body(float[] x, float[] sums, PackedWeight w, MemorySegment s, long base, long pb, float[] out) {
        boolean half = w.half;
        int bs = w.blockSize, nb = w.blocks(), cb = bs * NR, eb = w.scaleBytes(), lb = eb * L, nrb = eb * NR;
        long bb = w.blockBytes, p2 = 2 * pb, p3 = 3 * pb;
        FloatVector y00 = FloatVector.zero(F), y01 = y00, y10 = y00, y11 = y00, y20 = y00, y21 = y00, y30 = y00, y31 = y00;
        for (int b = 0; b < nb; b++) {
            FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            long ob = base + b * bb;
            int xo = b * bs;
            for (int kk = 0; kk < bs; kk++) {
                long o = ob + kk * NR;
                FloatVector xv = FloatVector.broadcast(F, x[xo + kk]);
                a00 = q8(s, o).fma(xv, a00);
                a01 = q8(s, o + L).fma(xv, a01);
                a10 = q8(s, pb + o).fma(xv, a10);
                a11 = q8(s, pb + o + L).fma(xv, a11);
                a20 = q8(s, p2 + o).fma(xv, a20);
                a21 = q8(s, p2 + o + L).fma(xv, a21);
                a30 = q8(s, p3 + o).fma(xv, a30);
                a31 = q8(s, p3 + o + L).fma(xv, a31);
            }
            long so = ob + cb;
            y00 = a00.fma(sc(s, half, so), y00);
            y01 = a01.fma(sc(s, half, so + lb), y01);
            y10 = a10.fma(sc(s, half, pb + so), y10);
            y11 = a11.fma(sc(s, half, pb + so + lb), y11);
            y20 = a20.fma(sc(s, half, p2 + so), y20);
            y21 = a21.fma(sc(s, half, p2 + so + lb), y21);
            y30 = a30.fma(sc(s, half, p3 + so), y30);
            y31 = a31.fma(sc(s, half, p3 + so + lb), y31);
            if (sums != null) {
                FloatVector sx = FloatVector.broadcast(F, sums[b]);
                long oo = so + nrb;
                y00 = sc(s, half, oo).fma(sx, y00);
                y01 = sc(s, half, oo + lb).fma(sx, y01);
                y10 = sc(s, half, pb + oo).fma(sx, y10);
                y11 = sc(s, half, pb + oo + lb).fma(sx, y11);
                y20 = sc(s, half, p2 + oo).fma(sx, y20);
                y21 = sc(s, half, p2 + oo + lb).fma(sx, y21);
                y30 = sc(s, half, p3 + oo).fma(sx, y30);
                y31 = sc(s, half, p3 + oo + lb).fma(sx, y31);
            }
        }
        y00.intoArray(out, 0); y01.intoArray(out, L);
        y10.intoArray(out, NR); y11.intoArray(out, NR + L);
        y20.intoArray(out, 2 * NR); y21.intoArray(out, 2 * NR + L);
        y30.intoArray(out, 3 * NR); y31.intoArray(out, 3 * NR + L);
    }
}
