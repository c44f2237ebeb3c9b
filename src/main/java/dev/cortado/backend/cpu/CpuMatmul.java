package dev.cortado.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Blocked, multithreaded y[M,N] = x[M,K] · w[K,N] (+ b) with the Vector API. Weights are [K, N] row-major
 * (ONNX MatMul layout) so both GEMV (M = 1: one streaming pass over the weights, vectorized over N) and GEMM
 * (register tiles of 4 rows × 2 vectors, broadcast-FMA, no horizontal reductions) read them contiguously.
 * bfloat16 weights are widened in-register (shift into the high half of a float).
 */
final class CpuMatmul {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED.withShape(
            jdk.incubator.vector.VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED.withShape(F.vectorShape());
    private static final int MR = 4;
    private static final int NR = 2 * L;
    private static final int GEMV_NR = 8 * L;

    private CpuMatmul() {}

    /** Weights: float[] (f32) or short[] (bf16 bits). */
    static void matmul(float[] x, Object w, float[] bias, float[] y, int m, int k, int n, WorkerPool pool) {
        if (m == 1) {
            int panels = (n + GEMV_NR - 1) / GEMV_NR;
            pool.parallelFor(panels, (p0, p1) -> {
                for (int p = p0; p < p1; p++) {
                    int j0 = p * GEMV_NR, j1 = Math.min(n, j0 + GEMV_NR);
                    if (w instanceof float[] wf) gemvF32(x, wf, y, k, n, j0, j1);
                    else gemvBf16(x, (short[]) w, y, k, n, j0, j1);
                }
            });
        } else {
            int panels = (n + NR - 1) / NR;
            pool.parallelFor(panels, (p0, p1) -> {
                for (int p = p0; p < p1; p++) {
                    int j0 = p * NR, j1 = Math.min(n, j0 + NR);
                    if (w instanceof float[] wf) panelF32(x, wf, y, m, k, n, j0, j1);
                    else panelBf16(x, (short[]) w, y, m, k, n, j0, j1);
                }
            });
        }
        if (bias != null) {
            for (int i = 0; i < m; i++) {
                int o = i * n, j = 0;
                for (; j <= n - L; j += L) {
                    FloatVector.fromArray(F, y, o + j).add(FloatVector.fromArray(F, bias, j)).intoArray(y, o + j);
                }
                for (; j < n; j++) y[o + j] += bias[j];
            }
        }
    }

    private static void gemvF32(float[] x, float[] w, float[] y, int k, int n, int j0, int j1) {
        int j = j0;
        if (j1 - j0 == GEMV_NR) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int kk = 0, o = j0; kk < k; kk++, o += n) {
                FloatVector xv = FloatVector.broadcast(F, x[kk]);
                a0 = FloatVector.fromArray(F, w, o).fma(xv, a0);
                a1 = FloatVector.fromArray(F, w, o + L).fma(xv, a1);
                a2 = FloatVector.fromArray(F, w, o + 2 * L).fma(xv, a2);
                a3 = FloatVector.fromArray(F, w, o + 3 * L).fma(xv, a3);
                a4 = FloatVector.fromArray(F, w, o + 4 * L).fma(xv, a4);
                a5 = FloatVector.fromArray(F, w, o + 5 * L).fma(xv, a5);
                a6 = FloatVector.fromArray(F, w, o + 6 * L).fma(xv, a6);
                a7 = FloatVector.fromArray(F, w, o + 7 * L).fma(xv, a7);
            }
            a0.intoArray(y, j0); a1.intoArray(y, j0 + L); a2.intoArray(y, j0 + 2 * L); a3.intoArray(y, j0 + 3 * L);
            a4.intoArray(y, j0 + 4 * L); a5.intoArray(y, j0 + 5 * L); a6.intoArray(y, j0 + 6 * L); a7.intoArray(y, j0 + 7 * L);
            return;
        }
        for (; j <= j1 - L; j += L) {
            FloatVector a = FloatVector.zero(F);
            for (int kk = 0, o = j; kk < k; kk++, o += n) a = FloatVector.fromArray(F, w, o).fma(FloatVector.broadcast(F, x[kk]), a);
            a.intoArray(y, j);
        }
        for (; j < j1; j++) {
            float s = 0;
            for (int kk = 0; kk < k; kk++) s += x[kk] * w[kk * n + j];
            y[j] = s;
        }
    }

    private static void panelF32(float[] x, float[] w, float[] y, int m, int k, int n, int j0, int j1) {
        int i = 0;
        if (j1 - j0 == NR) {
            for (; i <= m - MR; i += MR) {
                FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
                int x0 = i * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
                for (int kk = 0, o = j0; kk < k; kk++, o += n) {
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
                int y0 = i * n + j0;
                c00.intoArray(y, y0); c01.intoArray(y, y0 + L);
                c10.intoArray(y, y0 + n); c11.intoArray(y, y0 + n + L);
                c20.intoArray(y, y0 + 2 * n); c21.intoArray(y, y0 + 2 * n + L);
                c30.intoArray(y, y0 + 3 * n); c31.intoArray(y, y0 + 3 * n + L);
            }
        }
        for (; i < m; i++) {
            int xo = i * k, yo = i * n;
            int j = j0;
            for (; j <= j1 - L; j += L) {
                FloatVector a = FloatVector.zero(F);
                for (int kk = 0, o = j; kk < k; kk++, o += n) a = FloatVector.fromArray(F, w, o).fma(FloatVector.broadcast(F, x[xo + kk]), a);
                a.intoArray(y, yo + j);
            }
            for (; j < j1; j++) {
                float s = 0;
                for (int kk = 0; kk < k; kk++) s += x[xo + kk] * w[kk * n + j];
                y[yo + j] = s;
            }
        }
    }

    static FloatVector bf16(short[] w, int o) {
        return ShortVector.fromArray(S, w, o).convertShape(VectorOperators.S2I, I, 0)
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    static float bf16(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    private static void gemvBf16(float[] x, short[] w, float[] y, int k, int n, int j0, int j1) {
        int j = j0;
        for (; j <= j1 - 2 * L; j += 2 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            for (int kk = 0, o = j; kk < k; kk++, o += n) {
                FloatVector xv = FloatVector.broadcast(F, x[kk]);
                a0 = bf16(w, o).fma(xv, a0);
                a1 = bf16(w, o + L).fma(xv, a1);
            }
            a0.intoArray(y, j); a1.intoArray(y, j + L);
        }
        for (; j < j1; j++) {
            float s = 0;
            for (int kk = 0; kk < k; kk++) s += x[kk] * bf16(w[kk * n + j]);
            y[j] = s;
        }
    }

    private static void panelBf16(float[] x, short[] w, float[] y, int m, int k, int n, int j0, int j1) {
        for (int i = 0; i < m; i++) {
            int xo = i * k, yo = i * n, j = j0;
            for (; j <= j1 - L; j += L) {
                FloatVector a = FloatVector.zero(F);
                for (int kk = 0, o = j; kk < k; kk++, o += n) a = bf16(w, o).fma(FloatVector.broadcast(F, x[xo + kk]), a);
                a.intoArray(y, yo + j);
            }
            for (; j < j1; j++) {
                float s = 0;
                for (int kk = 0; kk < k; kk++) s += x[xo + kk] * bf16(w[kk * n + j]);
                y[yo + j] = s;
            }
        }
    }
}
