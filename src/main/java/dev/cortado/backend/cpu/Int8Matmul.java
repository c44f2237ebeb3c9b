package dev.cortado.backend.cpu;

import dev.cortado.backend.cpu.Int8Weights.Packed;
import dev.cortado.backend.cpu.Int8Weights.Quantized;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels of {@link Int8Weights}: a 4-row × 2-vector register tile over int8 weight panels widened to
 * float in-register (B2F), exact integer products summed with FMA in chunks of {@link Int8Weights#CHUNK} k and flushed to
 * int; plus the vectorized min/max and quantization of the activation. Loaded only when {@link Simd#VECTOR}.
 */
final class Int8Matmul {
    static final VectorSpecies<Float> F = CpuMatmul.F;
    static final int L = F.length();
    static final int NR = 2 * L;
    /** Bytes of L codes: a 64-bit or wider byte species (none for 128-bit float vectors, where a scalar widen is used). */
    private static final VectorSpecies<Byte> B = L * 8 >= 64 ? ByteVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(L * 8)) : null;
    private static final int ROWS = 64;
    private static final float MAGIC = 12582912f;   // 1.5 · 2^23: (v + MAGIC) − MAGIC rounds half to even for |v| < 2^22

    private Int8Matmul() {}

    static float[] minMax(float[] x, int len) {
        FloatVector lo = FloatVector.broadcast(F, 0f), hi = lo;
        int i = 0;
        for (; i <= len - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            lo = lo.min(v);
            hi = hi.max(v);
        }
        float mn = lo.reduceLanes(VectorOperators.MIN), mx = hi.reduceLanes(VectorOperators.MAX);
        for (; i < len; i++) {
            mn = Math.min(mn, x[i]);
            mx = Math.max(mx, x[i]);
        }
        return new float[] {mn, mx};
    }

    /** a[i] = rint(clamp(x[i] / scale, −zp, 255 − zp)): MlasQuantizeLinear minus the zero point. */
    static void quantize(float[] x, float[] a, int len, float scale, int zp) {
        float lo = -zp, hi = 255 - zp;
        int i = 0;
        for (; i <= len - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i).div(scale).max(lo).min(hi);
            v.add(MAGIC).sub(MAGIC).intoArray(a, i);
        }
        for (; i < len; i++) a[i] = (float) Math.rint(Math.max(lo, Math.min(hi, x[i] / scale)));
    }

    private static FloatVector widen(byte[] p, int o) {
        if (B != null) return (FloatVector) ByteVector.fromArray(B, p, o).convertShape(VectorOperators.B2F, F, 0);
        float[] t = new float[L];
        for (int i = 0; i < L; i++) t[i] = p[o + i];
        return FloatVector.fromArray(F, t, 0);
    }

    static void matmul(Quantized q, Packed w, float[] ss, float[] bias, float[] y, int m, WorkerPool pool) {
        int panels = w.panelCount(), blocks = (m + ROWS - 1) / ROWS;
        pool.parallelFor(blocks * panels, (t0, t1) -> {
            float[] tmp = new float[8 * NR];
            int[] acc = new int[8 * NR];
            for (int t = t0; t < t1; t++) {
                int p = t % panels, r0 = (t / panels) * ROWS, r1 = Math.min(m, r0 + ROWS);
                int r = r0;
                if (TILE8) for (; r + 8 <= r1; r += 8) tile8(q, w, p, r, ss, bias, y, tmp, acc);
                for (; r + 4 <= r1; r += 4) tile(q, w, p, r, 4, ss, bias, y, tmp, acc);
                for (; r < r1; r++) row(q, w, p, r, ss, bias, y, tmp);
            }
        });
    }

    /** 8 rows × 2 vectors = 16 accumulators: only with 32 vector registers (AVX-512). */
    static final boolean TILE8 = F.vectorBitSize() >= 512;

    /** Rows [r, r + 8) × panel p. */
    private static void tile8(Quantized q, Packed w, int p, int r, float[] ss, float[] bias, float[] y, float[] tmp, int[] acc) {
        int k = w.k(), n = w.n(), base = p * k * NR;
        byte[] wp = w.panels();
        float[] a = q.a();
        java.util.Arrays.fill(acc, 0);
        int a0 = r * k;
        for (int k0 = 0; k0 < k; k0 += Int8Weights.CHUNK) {
            int k1 = Math.min(k, k0 + Int8Weights.CHUNK);
            FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
                    c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
            for (int kk = k0; kk < k1; kk++) {
                int o = base + kk * NR, ai = a0 + kk;
                FloatVector w0 = widen(wp, o), w1 = widen(wp, o + L);
                FloatVector x = FloatVector.broadcast(F, a[ai]);
                c00 = x.fma(w0, c00); c01 = x.fma(w1, c01);
                x = FloatVector.broadcast(F, a[ai + k]);
                c10 = x.fma(w0, c10); c11 = x.fma(w1, c11);
                x = FloatVector.broadcast(F, a[ai + 2 * k]);
                c20 = x.fma(w0, c20); c21 = x.fma(w1, c21);
                x = FloatVector.broadcast(F, a[ai + 3 * k]);
                c30 = x.fma(w0, c30); c31 = x.fma(w1, c31);
                x = FloatVector.broadcast(F, a[ai + 4 * k]);
                c40 = x.fma(w0, c40); c41 = x.fma(w1, c41);
                x = FloatVector.broadcast(F, a[ai + 5 * k]);
                c50 = x.fma(w0, c50); c51 = x.fma(w1, c51);
                x = FloatVector.broadcast(F, a[ai + 6 * k]);
                c60 = x.fma(w0, c60); c61 = x.fma(w1, c61);
                x = FloatVector.broadcast(F, a[ai + 7 * k]);
                c70 = x.fma(w0, c70); c71 = x.fma(w1, c71);
            }
            c00.intoArray(tmp, 0); c01.intoArray(tmp, L);
            c10.intoArray(tmp, 2 * L); c11.intoArray(tmp, 3 * L);
            c20.intoArray(tmp, 4 * L); c21.intoArray(tmp, 5 * L);
            c30.intoArray(tmp, 6 * L); c31.intoArray(tmp, 7 * L);
            c40.intoArray(tmp, 8 * L); c41.intoArray(tmp, 9 * L);
            c50.intoArray(tmp, 10 * L); c51.intoArray(tmp, 11 * L);
            c60.intoArray(tmp, 12 * L); c61.intoArray(tmp, 13 * L);
            c70.intoArray(tmp, 14 * L); c71.intoArray(tmp, 15 * L);
            for (int i = 0; i < 8 * NR; i++) acc[i] += (int) tmp[i];   // exact: every partial sum is an integer < 2^24
        }
        int j0 = p * NR, width = Math.min(NR, n - j0);
        for (int i = 0; i < 8; i++) {
            int row = r + i, rs = q.rowSums()[row];
            for (int j = 0; j < width; j++) {
                y[row * n + j0 + j] = Int8Weights.output(acc[i * NR + j], w.zeroPoints()[j0 + j], rs, ss[j0 + j], bias, j0 + j);
            }
        }
    }

    /** One row × panel p (row tails, GEMV). */
    private static void row(Quantized q, Packed w, int p, int r, float[] ss, float[] bias, float[] y, float[] tmp) {
        int k = w.k(), n = w.n(), base = p * k * NR, a0 = r * k;
        byte[] wp = w.panels();
        float[] a = q.a();
        int[] acc = new int[NR];
        for (int k0 = 0; k0 < k; k0 += Int8Weights.CHUNK) {
            int k1 = Math.min(k, k0 + Int8Weights.CHUNK);
            FloatVector c0 = FloatVector.zero(F), c1 = c0;
            for (int kk = k0; kk < k1; kk++) {
                int o = base + kk * NR;
                FloatVector x = FloatVector.broadcast(F, a[a0 + kk]);
                c0 = x.fma(widen(wp, o), c0);
                c1 = x.fma(widen(wp, o + L), c1);
            }
            c0.intoArray(tmp, 0);
            c1.intoArray(tmp, L);
            for (int i = 0; i < NR; i++) acc[i] += (int) tmp[i];
        }
        int j0 = p * NR, width = Math.min(NR, n - j0), rs = q.rowSums()[r];
        for (int j = 0; j < width; j++) y[r * n + j0 + j] = Int8Weights.output(acc[j], w.zeroPoints()[j0 + j], rs, ss[j0 + j], bias, j0 + j);
    }

    /** Rows [r, r + rows) (rows ≤ 4) × panel p. */
    private static void tile(Quantized q, Packed w, int p, int r, int rows, float[] ss, float[] bias, float[] y,
                             float[] tmp, int[] acc) {
        int k = w.k(), n = w.n(), base = p * k * NR;
        byte[] wp = w.panels();
        float[] a = q.a();
        java.util.Arrays.fill(acc, 0);
        int a0 = r * k, a1 = (r + Math.min(1, rows - 1)) * k, a2 = (r + Math.min(2, rows - 1)) * k, a3 = (r + Math.min(3, rows - 1)) * k;
        for (int k0 = 0; k0 < k; k0 += Int8Weights.CHUNK) {
            int k1 = Math.min(k, k0 + Int8Weights.CHUNK);
            FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
            for (int kk = k0; kk < k1; kk++) {
                int o = base + kk * NR;
                FloatVector w0 = widen(wp, o), w1 = widen(wp, o + L);
                FloatVector x0 = FloatVector.broadcast(F, a[a0 + kk]);
                c00 = x0.fma(w0, c00);
                c01 = x0.fma(w1, c01);
                FloatVector x1 = FloatVector.broadcast(F, a[a1 + kk]);
                c10 = x1.fma(w0, c10);
                c11 = x1.fma(w1, c11);
                FloatVector x2 = FloatVector.broadcast(F, a[a2 + kk]);
                c20 = x2.fma(w0, c20);
                c21 = x2.fma(w1, c21);
                FloatVector x3 = FloatVector.broadcast(F, a[a3 + kk]);
                c30 = x3.fma(w0, c30);
                c31 = x3.fma(w1, c31);
            }
            c00.intoArray(tmp, 0);
            c01.intoArray(tmp, L);
            c10.intoArray(tmp, NR);
            c11.intoArray(tmp, NR + L);
            c20.intoArray(tmp, 2 * NR);
            c21.intoArray(tmp, 2 * NR + L);
            c30.intoArray(tmp, 3 * NR);
            c31.intoArray(tmp, 3 * NR + L);
            for (int i = 0; i < 4 * NR; i++) acc[i] += (int) tmp[i];   // exact: every partial sum is an integer < 2^24
        }
        int j0 = p * NR, width = Math.min(NR, n - j0);
        for (int i = 0; i < rows; i++) {
            int row = r + i, rs = q.rowSums()[row];
            for (int j = 0; j < width; j++) {
                y[row * n + j0 + j] = Int8Weights.output(acc[i * NR + j], w.zeroPoints()[j0 + j], rs, ss[j0 + j], bias, j0 + j);
            }
        }
    }
}
