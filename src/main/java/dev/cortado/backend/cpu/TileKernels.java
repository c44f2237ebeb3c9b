package dev.cortado.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GEMM register tiles of {@link PackedMatmul} over one K×NR float32 panel: 8 rows × 2 vectors (AVX-512), 4 × 2,
 * and 1 × 2; each reads the panel either from a float[] (a panel widened from bf16/f16/int8/int4 into a scratch
 * array) or from native memory (float32 weights read in place). The two copies keep each call site monomorphic.
 * The 8- and 4-row tiles store their rows straight into the output (row r at out[o0 + r·os], + bias[bo ..] when bias
 * is not null: the same float add as {@link PackedMatmul#store}); a narrower last panel passes the scratch tile
 * (os = NR, no bias) and stores its columns itself. Their output offsets are computed before the FMA loop, on purpose:
 * computed after it (the same code otherwise), C2 (JDK 25) kept fewer of the loop's row offsets in registers and
 * reloaded them from the stack every k, and the tile ran ~8 % slower (one-JVM A/B, Zen 4). Both together took an
 * encoder's float32 GEMMs at M = 4096 (K = 384/1536) from 176-190 to 195-218 GFLOP/s on two cores.
 */
final class TileKernels {
    static final VectorSpecies<Float> F = CpuMatmul.F;
    static final int L = F.length();
    static final int NR = 2 * L;
    static final long LB = 4L * L, NRB = 4L * NR;
    static final int LI = 4 * L, NRI = 4 * NR;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private TileKernels() {}

    static void tile8(float[] x, float[] w, int base, int i, int k, float[] out, int o0, int os, float[] bias, int bo) {
        int o1 = o0 + os, o2 = o1 + os, o3 = o2 + os, o4 = o3 + os, o5 = o4 + os, o6 = o5 + os, o7 = o6 + os;
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
        if (bias != null) {
            FloatVector b0 = FloatVector.fromArray(F, bias, bo), b1 = FloatVector.fromArray(F, bias, bo + L);
            c00 = c00.add(b0); c01 = c01.add(b1); c10 = c10.add(b0); c11 = c11.add(b1);
            c20 = c20.add(b0); c21 = c21.add(b1); c30 = c30.add(b0); c31 = c31.add(b1);
            c40 = c40.add(b0); c41 = c41.add(b1); c50 = c50.add(b0); c51 = c51.add(b1);
            c60 = c60.add(b0); c61 = c61.add(b1); c70 = c70.add(b0); c71 = c71.add(b1);
        }
        c00.intoArray(out, o0); c01.intoArray(out, o0 + L); c10.intoArray(out, o1); c11.intoArray(out, o1 + L);
        c20.intoArray(out, o2); c21.intoArray(out, o2 + L); c30.intoArray(out, o3); c31.intoArray(out, o3 + L);
        c40.intoArray(out, o4); c41.intoArray(out, o4 + L); c50.intoArray(out, o5); c51.intoArray(out, o5 + L);
        c60.intoArray(out, o6); c61.intoArray(out, o6 + L); c70.intoArray(out, o7); c71.intoArray(out, o7 + L);
    }

    static void tile4(float[] x, float[] w, int base, int i, int k, float[] out, int o0, int os, float[] bias, int bo) {
        int o1 = o0 + os, o2 = o1 + os, o3 = o2 + os;
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
        if (bias != null) {
            FloatVector b0 = FloatVector.fromArray(F, bias, bo), b1 = FloatVector.fromArray(F, bias, bo + L);
            c00 = c00.add(b0); c01 = c01.add(b1); c10 = c10.add(b0); c11 = c11.add(b1);
            c20 = c20.add(b0); c21 = c21.add(b1); c30 = c30.add(b0); c31 = c31.add(b1);
        }
        c00.intoArray(out, o0); c01.intoArray(out, o0 + L); c10.intoArray(out, o1); c11.intoArray(out, o1 + L);
        c20.intoArray(out, o2); c21.intoArray(out, o2 + L); c30.intoArray(out, o3); c31.intoArray(out, o3 + L);
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
    static void tile8(float[] x, MemorySegment p, int i, int k, float[] out, int o0, int os, float[] bias, int bo) {
        int o1 = o0 + os, o2 = o1 + os, o3 = o2 + os, o4 = o3 + os, o5 = o4 + os, o6 = o5 + os, o7 = o6 + os;
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
        if (bias != null) {
            FloatVector b0 = FloatVector.fromArray(F, bias, bo), b1 = FloatVector.fromArray(F, bias, bo + L);
            c00 = c00.add(b0); c01 = c01.add(b1); c10 = c10.add(b0); c11 = c11.add(b1);
            c20 = c20.add(b0); c21 = c21.add(b1); c30 = c30.add(b0); c31 = c31.add(b1);
            c40 = c40.add(b0); c41 = c41.add(b1); c50 = c50.add(b0); c51 = c51.add(b1);
            c60 = c60.add(b0); c61 = c61.add(b1); c70 = c70.add(b0); c71 = c71.add(b1);
        }
        c00.intoArray(out, o0); c01.intoArray(out, o0 + L); c10.intoArray(out, o1); c11.intoArray(out, o1 + L);
        c20.intoArray(out, o2); c21.intoArray(out, o2 + L); c30.intoArray(out, o3); c31.intoArray(out, o3 + L);
        c40.intoArray(out, o4); c41.intoArray(out, o4 + L); c50.intoArray(out, o5); c51.intoArray(out, o5 + L);
        c60.intoArray(out, o6); c61.intoArray(out, o6 + L); c70.intoArray(out, o7); c71.intoArray(out, o7 + L);
    }

    /** {@link #tile8}'s 4-row twin over a panel slice. */
    static void tile4(float[] x, MemorySegment p, int i, int k, float[] out, int o0, int os, float[] bias, int bo) {
        int o1 = o0 + os, o2 = o1 + os, o3 = o2 + os;
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
        if (bias != null) {
            FloatVector b0 = FloatVector.fromArray(F, bias, bo), b1 = FloatVector.fromArray(F, bias, bo + L);
            c00 = c00.add(b0); c01 = c01.add(b1); c10 = c10.add(b0); c11 = c11.add(b1);
            c20 = c20.add(b0); c21 = c21.add(b1); c30 = c30.add(b0); c31 = c31.add(b1);
        }
        c00.intoArray(out, o0); c01.intoArray(out, o0 + L); c10.intoArray(out, o1); c11.intoArray(out, o1 + L);
        c20.intoArray(out, o2); c21.intoArray(out, o2 + L); c30.intoArray(out, o3); c31.intoArray(out, o3 + L);
    }

    /**
     * {@link #tile4} over two panels at once (p: columns bo.., q: the next NR): 16 accumulators, the same FMA chain per
     * output as tile4, so the same bits. Two weight streams per thread: an M = 4 GEMM reading its weights from DRAM (a
     * decode step at batch 4) ran 13 % faster than one panel at a time (35.8 → 40.5 GB/s, Zen 4, 768×3072).
     */
    static void tile4x2(float[] x, MemorySegment p, MemorySegment q, int i, int k, float[] out, int o0, int os, float[] bias, int bo) {
        int o1 = o0 + os, o2 = o1 + os, o3 = o2 + os;
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector d00 = c00, d01 = c00, d10 = c00, d11 = c00, d20 = c00, d21 = c00, d30 = c00, d31 = c00;
        int x0 = i * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
        int o = 0;
        for (int kk = 0; kk < k; kk++, o += NRI) {
            FloatVector w0 = FloatVector.fromMemorySegment(F, p, o, LE), w1 = FloatVector.fromMemorySegment(F, p, o + LI, LE);
            FloatVector v0 = FloatVector.fromMemorySegment(F, q, o, LE), v1 = FloatVector.fromMemorySegment(F, q, o + LI, LE);
            FloatVector b = FloatVector.broadcast(F, x[x0 + kk]);
            c00 = w0.fma(b, c00); c01 = w1.fma(b, c01); d00 = v0.fma(b, d00); d01 = v1.fma(b, d01);
            b = FloatVector.broadcast(F, x[x1 + kk]);
            c10 = w0.fma(b, c10); c11 = w1.fma(b, c11); d10 = v0.fma(b, d10); d11 = v1.fma(b, d11);
            b = FloatVector.broadcast(F, x[x2 + kk]);
            c20 = w0.fma(b, c20); c21 = w1.fma(b, c21); d20 = v0.fma(b, d20); d21 = v1.fma(b, d21);
            b = FloatVector.broadcast(F, x[x3 + kk]);
            c30 = w0.fma(b, c30); c31 = w1.fma(b, c31); d30 = v0.fma(b, d30); d31 = v1.fma(b, d31);
        }
        if (bias != null) {
            FloatVector b0 = FloatVector.fromArray(F, bias, bo), b1 = FloatVector.fromArray(F, bias, bo + L);
            FloatVector e0 = FloatVector.fromArray(F, bias, bo + NR), e1 = FloatVector.fromArray(F, bias, bo + NR + L);
            c00 = c00.add(b0); c01 = c01.add(b1); c10 = c10.add(b0); c11 = c11.add(b1);
            c20 = c20.add(b0); c21 = c21.add(b1); c30 = c30.add(b0); c31 = c31.add(b1);
            d00 = d00.add(e0); d01 = d01.add(e1); d10 = d10.add(e0); d11 = d11.add(e1);
            d20 = d20.add(e0); d21 = d21.add(e1); d30 = d30.add(e0); d31 = d31.add(e1);
        }
        c00.intoArray(out, o0); c01.intoArray(out, o0 + L); d00.intoArray(out, o0 + NR); d01.intoArray(out, o0 + NR + L);
        c10.intoArray(out, o1); c11.intoArray(out, o1 + L); d10.intoArray(out, o1 + NR); d11.intoArray(out, o1 + NR + L);
        c20.intoArray(out, o2); c21.intoArray(out, o2 + L); d20.intoArray(out, o2 + NR); d21.intoArray(out, o2 + NR + L);
        c30.intoArray(out, o3); c31.intoArray(out, o3 + L); d30.intoArray(out, o3 + NR); d31.intoArray(out, o3 + NR + L);
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
