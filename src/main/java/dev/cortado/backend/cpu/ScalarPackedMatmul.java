package dev.cortado.backend.cpu;

/**
 * The scalar twin of {@link PackedMatmul}, used when the Vector API is absent ({@link Simd#VECTOR} false): the same
 * column-panel layout (K×{@link #NR} contiguous panels, zero-padded) with a fixed panel width, so it never touches a
 * {@code jdk.incubator.vector} type. Each output column accumulates its K products in order with {@link Math#fma},
 * as the vector kernels' lanes do (C2 may still auto-vectorize the inner loop over the panel's columns).
 * Packs made here are read only by this class: one JVM uses one of the two paths throughout.
 */
final class ScalarPackedMatmul {
    /** Panel width (columns); 16 floats = one 64-byte cache line. */
    static final int NR = 16;
    /** Rows per GEMM task. */
    private static final int ROWS = 64;

    private ScalarPackedMatmul() {}

    static PackedMatmul.Packed pack(float[] w, int k, int n) {
        int panels = panels(n);
        float[] p = new float[panels * k * NR];
        for (int pi = 0; pi < panels; pi++) {
            int j0 = pi * NR, width = Math.min(NR, n - j0), base = pi * k * NR;
            for (int kk = 0; kk < k; kk++) System.arraycopy(w, kk * n + j0, p, base + kk * NR, width);
        }
        return new PackedMatmul.Packed(p, k, n);
    }

    static PackedMatmul.Packed packBf16(short[] w, int k, int n) {
        int panels = panels(n);
        short[] p = new short[panels * k * NR];
        for (int pi = 0; pi < panels; pi++) {
            int j0 = pi * NR, width = Math.min(NR, n - j0), base = pi * k * NR;
            for (int kk = 0; kk < k; kk++) System.arraycopy(w, kk * n + j0, p, base + kk * NR, width);
        }
        return new PackedMatmul.Packed(p, k, n);
    }

    private static int panels(int n) {
        return (n + NR - 1) / NR;
    }

    /** y[M,N] = x[M,K] · W (+ bias); tasks = (block of rows) × panel, spread over the pool. */
    static void matmul(float[] x, PackedMatmul.Packed w, float[] bias, float[] y, int m, WorkerPool pool) {
        int k = w.k(), n = w.n(), panels = panels(n), blocks = (m + ROWS - 1) / ROWS;
        Object data = w.data();
        pool.parallelFor(blocks * panels, (t0, t1) -> {
            float[] acc = new float[NR], acc4 = new float[4 * NR];
            for (int t = t0; t < t1; t++) {
                int p = t % panels, r0 = (t / panels) * ROWS, r1 = Math.min(m, r0 + ROWS);
                int j0 = p * NR, width = Math.min(NR, n - j0), base = p * k * NR;
                int i = r0;
                for (; i <= r1 - 4; i += 4) {
                    java.util.Arrays.fill(acc4, 0f);
                    if (data instanceof float[] wf) panel4(x, i * k, wf, base, k, acc4);
                    else panel4Bf16(x, i * k, (short[]) data, base, k, acc4);
                    for (int r = 0; r < 4; r++) {
                        int to = (i + r) * n + j0;
                        if (bias == null) System.arraycopy(acc4, r * NR, y, to, width);
                        else for (int j = 0; j < width; j++) y[to + j] = acc4[r * NR + j] + bias[j0 + j];
                    }
                }
                for (; i < r1; i++) {
                    java.util.Arrays.fill(acc, 0f);
                    if (data instanceof float[] wf) panel(x, i * k, wf, base, k, acc);
                    else panelBf16(x, i * k, (short[]) data, base, k, acc);
                    int to = i * n + j0;
                    if (bias == null) System.arraycopy(acc, 0, y, to, width);
                    else for (int j = 0; j < width; j++) y[to + j] = acc[j] + bias[j0 + j];
                }
            }
        });
    }

    /** Four rows against one panel: each weight is loaded once for four FMAs (in order over K per column). */
    private static void panel4(float[] x, int x0, float[] w, int base, int k, float[] acc) {
        int x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
        for (int kk = 0, o = base; kk < k; kk++, o += NR) {
            float a = x[x0 + kk], b = x[x1 + kk], c = x[x2 + kk], d = x[x3 + kk];
            for (int j = 0; j < NR; j++) {
                float wj = w[o + j];
                acc[j] = Math.fma(wj, a, acc[j]);
                acc[NR + j] = Math.fma(wj, b, acc[NR + j]);
                acc[2 * NR + j] = Math.fma(wj, c, acc[2 * NR + j]);
                acc[3 * NR + j] = Math.fma(wj, d, acc[3 * NR + j]);
            }
        }
    }

    private static void panel4Bf16(float[] x, int x0, short[] w, int base, int k, float[] acc) {
        int x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
        for (int kk = 0, o = base; kk < k; kk++, o += NR) {
            float a = x[x0 + kk], b = x[x1 + kk], c = x[x2 + kk], d = x[x3 + kk];
            for (int j = 0; j < NR; j++) {
                float wj = Float.intBitsToFloat(w[o + j] << 16);
                acc[j] = Math.fma(wj, a, acc[j]);
                acc[NR + j] = Math.fma(wj, b, acc[NR + j]);
                acc[2 * NR + j] = Math.fma(wj, c, acc[2 * NR + j]);
                acc[3 * NR + j] = Math.fma(wj, d, acc[3 * NR + j]);
            }
        }
    }

    private static void panel(float[] x, int xo, float[] w, int base, int k, float[] acc) {
        for (int kk = 0, o = base; kk < k; kk++, o += NR) {
            float xv = x[xo + kk];
            for (int j = 0; j < NR; j++) acc[j] = Math.fma(w[o + j], xv, acc[j]);
        }
    }

    private static void panelBf16(float[] x, int xo, short[] w, int base, int k, float[] acc) {
        for (int kk = 0, o = base; kk < k; kk++, o += NR) {
            float xv = x[xo + kk];
            for (int j = 0; j < NR; j++) acc[j] = Math.fma(Float.intBitsToFloat(w[o + j] << 16), xv, acc[j]);
        }
    }
}
