package dev.cortado.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * y[M,N] = x[M,K] · W[K,N] (+ b) over weights packed once at load into column panels of {@link #NR} columns, each
 * panel K×NR contiguous (zero-padded on the right). GEMV (M = 1) then streams each panel sequentially — one pass
 * over the weights at full memory bandwidth — and GEMM runs a 4-row × 2-vector broadcast-FMA register tile with no
 * strided weight loads. float32 or bfloat16 (widened in-register) panels.
 */
final class PackedMatmul {
    static final VectorSpecies<Float> F = CpuMatmul.F;
    static final int L = F.length();
    static final int NR = 2 * L;
    /** Rows per GEMM task (a multiple of the 4-row register tile). */
    static final int ROWS = 64;

    /** A packed weight: data is float[] or short[] (bf16 bits) of panels·K·NR elements. */
    record Packed(Object data, int k, int n) {
        int panels() {
            return (n + NR - 1) / NR;
        }
    }

    private PackedMatmul() {}

    static Packed pack(float[] w, int k, int n) {
        int panels = (n + NR - 1) / NR;
        float[] p = new float[panels * k * NR];
        for (int pi = 0; pi < panels; pi++) {
            int j0 = pi * NR, width = Math.min(NR, n - j0), base = pi * k * NR;
            for (int kk = 0; kk < k; kk++) System.arraycopy(w, kk * n + j0, p, base + kk * NR, width);
        }
        return new Packed(p, k, n);
    }

    static Packed packBf16(short[] w, int k, int n) {
        int panels = (n + NR - 1) / NR;
        short[] p = new short[panels * k * NR];
        for (int pi = 0; pi < panels; pi++) {
            int j0 = pi * NR, width = Math.min(NR, n - j0), base = pi * k * NR;
            for (int kk = 0; kk < k; kk++) System.arraycopy(w, kk * n + j0, p, base + kk * NR, width);
        }
        return new Packed(p, k, n);
    }

    static void matmul(float[] x, Packed w, float[] bias, float[] y, int m, WorkerPool pool) {
        int k = w.k(), n = w.n();
        if (m == 1) {
            // GEMV: four panels per pass = four sequential weight streams in flight per thread
            int quads = (w.panels() + 3) / 4;
            pool.parallelFor(quads, (q0, q1) -> {
                float[] tmp = new float[4 * NR];
                for (int q = q0; q < q1; q++) {
                    int p = 4 * q;
                    if (p + 3 < w.panels()) {
                        if (w.data() instanceof float[] wf) gemv4(x, wf, p * k * NR, k, tmp);
                        else gemv4Bf16(x, (short[]) w.data(), p * k * NR, k, tmp);
                        for (int r = 0; r < 4; r++) store(tmp, r * NR, y, (p + r) * NR, Math.min(NR, n - (p + r) * NR), bias, (p + r) * NR);
                    } else {
                        for (; p < w.panels(); p++) {
                            if (w.data() instanceof float[] wf) row1(x, wf, p * k * NR, 0, k, tmp);
                            else row1Bf16(x, (short[]) w.data(), p * k * NR, 0, k, tmp);
                            store(tmp, 0, y, p * NR, Math.min(NR, n - p * NR), bias, p * NR);
                        }
                    }
                }
            });
            return;
        }
        // GEMM: tasks = (block of ROWS rows) × panel, panel-fastest, so a row block stays in L2 across panels
        int panels = w.panels(), blocks = (m + ROWS - 1) / ROWS;
        pool.parallelFor(blocks * panels, (t0, t1) -> {
            float[] tmp = new float[8 * NR];
            for (int t = t0; t < t1; t++) {
                int p = t % panels, r0 = (t / panels) * ROWS, r1 = Math.min(m, r0 + ROWS);
                int j0 = p * NR, width = Math.min(NR, n - j0), base = p * k * NR;
                int i = r0;
                if (TILE8 && w.data() instanceof float[] wf8) {
                    for (; i <= r1 - 8; i += 8) {
                        tile8(x, wf8, base, i, k, tmp);
                        for (int r = 0; r < 8; r++) store(tmp, r * NR, y, (i + r) * n + j0, width, bias, j0);
                    }
                }
                for (; i <= r1 - 4; i += 4) {
                    if (w.data() instanceof float[] wf) tile4(x, wf, base, i, k, tmp);
                    else tile4Bf16(x, (short[]) w.data(), base, i, k, tmp);
                    for (int r = 0; r < 4; r++) store(tmp, r * NR, y, (i + r) * n + j0, width, bias, j0);
                }
                for (; i < r1; i++) {
                    if (w.data() instanceof float[] wf) row1(x, wf, base, i, k, tmp);
                    else row1Bf16(x, (short[]) w.data(), base, i, k, tmp);
                    store(tmp, 0, y, i * n + j0, width, bias, j0);
                }
            }
        });
    }

    private static void store(float[] tmp, int from, float[] y, int to, int width, float[] bias, int j0) {
        if (bias == null) {
            System.arraycopy(tmp, from, y, to, width);
        } else {
            for (int j = 0; j < width; j++) y[to + j] = tmp[from + j] + bias[j0 + j];
        }
    }

    /** Four consecutive panels (base, base + K·NR, …) against one input row. */
    private static void gemv4(float[] x, float[] w, int base, int k, float[] out) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        int stride = k * NR;
        for (int kk = 0, o = base; kk < k; kk++, o += NR) {
            FloatVector xv = FloatVector.broadcast(F, x[kk]);
            a0 = FloatVector.fromArray(F, w, o).fma(xv, a0);
            a1 = FloatVector.fromArray(F, w, o + L).fma(xv, a1);
            b0 = FloatVector.fromArray(F, w, o + stride).fma(xv, b0);
            b1 = FloatVector.fromArray(F, w, o + stride + L).fma(xv, b1);
            c0 = FloatVector.fromArray(F, w, o + 2 * stride).fma(xv, c0);
            c1 = FloatVector.fromArray(F, w, o + 2 * stride + L).fma(xv, c1);
            d0 = FloatVector.fromArray(F, w, o + 3 * stride).fma(xv, d0);
            d1 = FloatVector.fromArray(F, w, o + 3 * stride + L).fma(xv, d1);
        }
        a0.intoArray(out, 0); a1.intoArray(out, L);
        b0.intoArray(out, NR); b1.intoArray(out, NR + L);
        c0.intoArray(out, 2 * NR); c1.intoArray(out, 2 * NR + L);
        d0.intoArray(out, 3 * NR); d1.intoArray(out, 3 * NR + L);
    }

    private static void gemv4Bf16(float[] x, short[] w, int base, int k, float[] out) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        int stride = k * NR;
        for (int kk = 0, o = base; kk < k; kk++, o += NR) {
            FloatVector xv = FloatVector.broadcast(F, x[kk]);
            a0 = CpuMatmul.bf16(w, o).fma(xv, a0);
            a1 = CpuMatmul.bf16(w, o + L).fma(xv, a1);
            b0 = CpuMatmul.bf16(w, o + stride).fma(xv, b0);
            b1 = CpuMatmul.bf16(w, o + stride + L).fma(xv, b1);
            c0 = CpuMatmul.bf16(w, o + 2 * stride).fma(xv, c0);
            c1 = CpuMatmul.bf16(w, o + 2 * stride + L).fma(xv, c1);
            d0 = CpuMatmul.bf16(w, o + 3 * stride).fma(xv, d0);
            d1 = CpuMatmul.bf16(w, o + 3 * stride + L).fma(xv, d1);
        }
        a0.intoArray(out, 0); a1.intoArray(out, L);
        b0.intoArray(out, NR); b1.intoArray(out, NR + L);
        c0.intoArray(out, 2 * NR); c1.intoArray(out, 2 * NR + L);
        d0.intoArray(out, 3 * NR); d1.intoArray(out, 3 * NR + L);
    }

    /**
     * 8 rows × 2 vectors: 16 accumulators + 2 weight vectors + a broadcast fit AVX-512's 32 registers (on 16-register
     * AVX2 they would spill, so {@link #TILE8} keeps the 4-row tile there): twice the FMAs per weight load of tile4.
     */
    static final boolean TILE8 = L >= 16 && !Boolean.getBoolean("cortado.gemm.tile4");

    private static void tile8(float[] x, float[] w, int base, int i, int k, float[] out) {
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

    private static void tile4(float[] x, float[] w, int base, int i, int k, float[] out) {
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

    private static void row1(float[] x, float[] w, int base, int i, int k, float[] out) {
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

    private static void tile4Bf16(float[] x, short[] w, int base, int i, int k, float[] out) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        int x0 = i * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
        for (int kk = 0, o = base; kk < k; kk++, o += NR) {
            FloatVector w0 = CpuMatmul.bf16(w, o), w1 = CpuMatmul.bf16(w, o + L);
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

    private static void row1Bf16(float[] x, short[] w, int base, int i, int k, float[] out) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int kk = 0, o = base, xo = i * k; kk < k; kk++, o += NR) {
            FloatVector xv = FloatVector.broadcast(F, x[xo + kk]);
            a0 = CpuMatmul.bf16(w, o).fma(xv, a0);
            a1 = CpuMatmul.bf16(w, o + L).fma(xv, a1);
        }
        a0.intoArray(out, 0);
        a1.intoArray(out, L);
    }
}
