package dev.cortado.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GEMM register tiles of {@link PackedMatmul} over one K×NR float32 panel: 8 rows × 2 vectors (AVX-512), 4 × 2,
 * and 1 × 2; each reads the panel either from a float[] (a panel widened from bf16/f16/int8/int4 into a scratch
 * array) or from native memory (float32 weights read in place). The two copies keep each call site monomorphic.
 */
final class TileKernels {
    static final VectorSpecies<Float> F = CpuMatmul.F;
    static final int L = F.length();
    static final int NR = 2 * L;
    static final long LB = 4L * L, NRB = 4L * NR;
    static final int LI = 4 * L, NRI = 4 * NR;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private TileKernels() {}

    /**
     * Four rows of x (x[0..4k), row-major) against two consecutive float32 panels of w (byte offsets base and base +
     * stride, read with int offsets like {@link PackedMatmul}'s GEMV): out[(panel·4 + row)·NR + j]. The batched-decode
     * kernel (2-4 rows): two panels stream at once, as the batch-1 GEMV streams four, where {@link #tile4} streams one
     * (a batch-4 GPT-2 step read its weights at about half the GEMV's bandwidth). Each accumulator sums k in order, as
     * tile4 and the GEMV do: the same bits as either.
     */
    static void rows4x2(float[] x, MemorySegment w, int base, int stride, int k, float[] out) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        FloatVector b00 = a00, b01 = a00, b10 = a00, b11 = a00, b20 = a00, b21 = a00, b30 = a00, b31 = a00;
        final int sb = base + stride, x1 = k, x2 = 2 * k, x3 = 3 * k;
        for (int kk = 0; kk < k; kk++) {
            int o = kk * NRI;
            FloatVector u0 = FloatVector.fromMemorySegment(F, w, base + o, LE), u1 = FloatVector.fromMemorySegment(F, w, base + o + LI, LE);
            FloatVector v0 = FloatVector.fromMemorySegment(F, w, sb + o, LE), v1 = FloatVector.fromMemorySegment(F, w, sb + o + LI, LE);
            FloatVector e = FloatVector.broadcast(F, x[kk]);
            a00 = u0.fma(e, a00); a01 = u1.fma(e, a01); b00 = v0.fma(e, b00); b01 = v1.fma(e, b01);
            e = FloatVector.broadcast(F, x[x1 + kk]);
            a10 = u0.fma(e, a10); a11 = u1.fma(e, a11); b10 = v0.fma(e, b10); b11 = v1.fma(e, b11);
            e = FloatVector.broadcast(F, x[x2 + kk]);
            a20 = u0.fma(e, a20); a21 = u1.fma(e, a21); b20 = v0.fma(e, b20); b21 = v1.fma(e, b21);
            e = FloatVector.broadcast(F, x[x3 + kk]);
            a30 = u0.fma(e, a30); a31 = u1.fma(e, a31); b30 = v0.fma(e, b30); b31 = v1.fma(e, b31);
        }
        a00.intoArray(out, 0); a01.intoArray(out, L); a10.intoArray(out, NR); a11.intoArray(out, NR + L);
        a20.intoArray(out, 2 * NR); a21.intoArray(out, 2 * NR + L); a30.intoArray(out, 3 * NR); a31.intoArray(out, 3 * NR + L);
        b00.intoArray(out, 4 * NR); b01.intoArray(out, 4 * NR + L); b10.intoArray(out, 5 * NR); b11.intoArray(out, 5 * NR + L);
        b20.intoArray(out, 6 * NR); b21.intoArray(out, 6 * NR + L); b30.intoArray(out, 7 * NR); b31.intoArray(out, 7 * NR + L);
    }

    static void tile8(float[] x, float[] w, int base, int i, int k, float[] out) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        int x0 = i * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k, x4 = x3 + k, x5 = x4 + k, x6 = x5 + k, x7 = x6 + k;
        for (int kk = 0, o = base; kk < k; kk++, o += NR) {
            FloatVector w0 = FloatVector.fromArray(F, w, o), w1 = FloatVector.fromArray(F, w, o + L);
            FloatVector b = FloatVector.broadcast(F, x[x0 + kk]);
            c00 = w0.fma(b, c00); c01 = w1.fma(b, c01);
            b = FloatVector.broadcast(F, x[x1 + kk]);
            c10 = w0.fma(b, c10); c11 = w1.fma(b, c11);
            b = FloatVector.broadcast(F, x[x2 + kk]);
            c20 = w0.fma(b, c20); c21 = w1.fma(b, c21);
            b = FloatVector.broadcast(F, x[x3 + kk]);
            c30 = w0.fma(b, c30); c31 = w1.fma(b, c31);
            b = FloatVector.broadcast(F, x[x4 + kk]);
            c40 = w0.fma(b, c40); c41 = w1.fma(b, c41);
            b = FloatVector.broadcast(F, x[x5 + kk]);
            c50 = w0.fma(b, c50); c51 = w1.fma(b, c51);
            b = FloatVector.broadcast(F, x[x6 + kk]);
            c60 = w0.fma(b, c60); c61 = w1.fma(b, c61);
            b = FloatVector.broadcast(F, x[x7 + kk]);
            c70 = w0.fma(b, c70); c71 = w1.fma(b, c71);
        }
        c00.intoArray(out, 0); c01.intoArray(out, L); c10.intoArray(out, NR); c11.intoArray(out, NR + L);
        c20.intoArray(out, 2 * NR); c21.intoArray(out, 2 * NR + L); c30.intoArray(out, 3 * NR); c31.intoArray(out, 3 * NR + L);
        c40.intoArray(out, 4 * NR); c41.intoArray(out, 4 * NR + L); c50.intoArray(out, 5 * NR); c51.intoArray(out, 5 * NR + L);
        c60.intoArray(out, 6 * NR); c61.intoArray(out, 6 * NR + L); c70.intoArray(out, 7 * NR); c71.intoArray(out, 7 * NR + L);
    }

    static void tile4(float[] x, float[] w, int base, int i, int k, float[] out) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        int x0 = i * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
        for (int kk = 0, o = base; kk < k; kk++, o += NR) {
            FloatVector w0 = FloatVector.fromArray(F, w, o), w1 = FloatVector.fromArray(F, w, o + L);
            FloatVector b = FloatVector.broadcast(F, x[x0 + kk]);
            c00 = w0.fma(b, c00); c01 = w1.fma(b, c01);
            b = FloatVector.broadcast(F, x[x1 + kk]);
            c10 = w0.fma(b, c10); c11 = w1.fma(b, c11);
            b = FloatVector.broadcast(F, x[x2 + kk]);
            c20 = w0.fma(b, c20); c21 = w1.fma(b, c21);
            b = FloatVector.broadcast(F, x[x3 + kk]);
            c30 = w0.fma(b, c30); c31 = w1.fma(b, c31);
        }
        c00.intoArray(out, 0); c01.intoArray(out, L); c10.intoArray(out, NR); c11.intoArray(out, NR + L);
        c20.intoArray(out, 2 * NR); c21.intoArray(out, 2 * NR + L); c30.intoArray(out, 3 * NR); c31.intoArray(out, 3 * NR + L);
    }

    static void row1(float[] x, float[] w, int base, int i, int k, float[] out) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0;
        int xo = i * k, kk = 0, o = base;
        for (; kk <= k - 2; kk += 2, o += 2 * NR) {
            FloatVector xv = FloatVector.broadcast(F, x[xo + kk]), xw = FloatVector.broadcast(F, x[xo + kk + 1]);
            a0 = FloatVector.fromArray(F, w, o).fma(xv, a0);
            a1 = FloatVector.fromArray(F, w, o + L).fma(xv, a1);
            b0 = FloatVector.fromArray(F, w, o + NR).fma(xw, b0);
            b1 = FloatVector.fromArray(F, w, o + NR + L).fma(xw, b1);
        }
        for (; kk < k; kk++, o += NR) {
            FloatVector xv = FloatVector.broadcast(F, x[xo + kk]);
            a0 = FloatVector.fromArray(F, w, o).fma(xv, a0);
            a1 = FloatVector.fromArray(F, w, o + L).fma(xv, a1);
        }
        a0.add(b0).intoArray(out, 0);
        a1.add(b1).intoArray(out, L);
    }

    /**
     * A panel read in place: {@code p} is the panel's own slice of the weight (k·NRB bytes, indexed from 0 with int
     * offsets, so the bounds checks leave the loop); the caller slices it once per task, not once per tile.
     */
    static void tile8(float[] x, MemorySegment p, int i, int k, float[] out) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        int x0 = i * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k, x4 = x3 + k, x5 = x4 + k, x6 = x5 + k, x7 = x6 + k;
        int o = 0;
        for (int kk = 0; kk < k; kk++, o += NRI) {
            FloatVector w0 = FloatVector.fromMemorySegment(F, p, o, LE), w1 = FloatVector.fromMemorySegment(F, p, o + LI, LE);
            FloatVector b = FloatVector.broadcast(F, x[x0 + kk]);
            c00 = w0.fma(b, c00); c01 = w1.fma(b, c01);
            b = FloatVector.broadcast(F, x[x1 + kk]);
            c10 = w0.fma(b, c10); c11 = w1.fma(b, c11);
            b = FloatVector.broadcast(F, x[x2 + kk]);
            c20 = w0.fma(b, c20); c21 = w1.fma(b, c21);
            b = FloatVector.broadcast(F, x[x3 + kk]);
            c30 = w0.fma(b, c30); c31 = w1.fma(b, c31);
            b = FloatVector.broadcast(F, x[x4 + kk]);
            c40 = w0.fma(b, c40); c41 = w1.fma(b, c41);
            b = FloatVector.broadcast(F, x[x5 + kk]);
            c50 = w0.fma(b, c50); c51 = w1.fma(b, c51);
            b = FloatVector.broadcast(F, x[x6 + kk]);
            c60 = w0.fma(b, c60); c61 = w1.fma(b, c61);
            b = FloatVector.broadcast(F, x[x7 + kk]);
            c70 = w0.fma(b, c70); c71 = w1.fma(b, c71);
        }
        c00.intoArray(out, 0); c01.intoArray(out, L); c10.intoArray(out, NR); c11.intoArray(out, NR + L);
        c20.intoArray(out, 2 * NR); c21.intoArray(out, 2 * NR + L); c30.intoArray(out, 3 * NR); c31.intoArray(out, 3 * NR + L);
        c40.intoArray(out, 4 * NR); c41.intoArray(out, 4 * NR + L); c50.intoArray(out, 5 * NR); c51.intoArray(out, 5 * NR + L);
        c60.intoArray(out, 6 * NR); c61.intoArray(out, 6 * NR + L); c70.intoArray(out, 7 * NR); c71.intoArray(out, 7 * NR + L);
    }

    /** {@link #tile8}'s 4-row twin over a panel slice. */
    static void tile4(float[] x, MemorySegment p, int i, int k, float[] out) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        int x0 = i * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
        int o = 0;
        for (int kk = 0; kk < k; kk++, o += NRI) {
            FloatVector w0 = FloatVector.fromMemorySegment(F, p, o, LE), w1 = FloatVector.fromMemorySegment(F, p, o + LI, LE);
            FloatVector b = FloatVector.broadcast(F, x[x0 + kk]);
            c00 = w0.fma(b, c00); c01 = w1.fma(b, c01);
            b = FloatVector.broadcast(F, x[x1 + kk]);
            c10 = w0.fma(b, c10); c11 = w1.fma(b, c11);
            b = FloatVector.broadcast(F, x[x2 + kk]);
            c20 = w0.fma(b, c20); c21 = w1.fma(b, c21);
            b = FloatVector.broadcast(F, x[x3 + kk]);
            c30 = w0.fma(b, c30); c31 = w1.fma(b, c31);
        }
        c00.intoArray(out, 0); c01.intoArray(out, L); c10.intoArray(out, NR); c11.intoArray(out, NR + L);
        c20.intoArray(out, 2 * NR); c21.intoArray(out, 2 * NR + L); c30.intoArray(out, 3 * NR); c31.intoArray(out, 3 * NR + L);
    }

    static void row1(float[] x, MemorySegment w, long base, int i, int k, float[] out) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0;
        int xo = i * k, kk = 0;
        MemorySegment p = w.asSlice(base, (long) k * NRB); // int offsets into a slice: bounds checks leave the loop
        int o = 0;
        for (; kk <= k - 2; kk += 2, o += 2 * NRI) {
            FloatVector xv = FloatVector.broadcast(F, x[xo + kk]), xw = FloatVector.broadcast(F, x[xo + kk + 1]);
            a0 = FloatVector.fromMemorySegment(F, p, o, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, p, o + LI, LE).fma(xv, a1);
            b0 = FloatVector.fromMemorySegment(F, p, o + NRI, LE).fma(xw, b0);
            b1 = FloatVector.fromMemorySegment(F, p, o + NRI + LI, LE).fma(xw, b1);
        }
        for (; kk < k; kk++, o += NRI) {
            FloatVector xv = FloatVector.broadcast(F, x[xo + kk]);
            a0 = FloatVector.fromMemorySegment(F, p, o, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, p, o + LI, LE).fma(xv, a1);
        }
        a0.add(b0).intoArray(out, 0);
        a1.add(b1).intoArray(out, L);
    }
}
