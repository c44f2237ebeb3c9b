package dev.cortado.backend.cpu;

import dev.cortado.backend.KvView;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Vector API attention kernels; reached only through {@link CpuAttention} when {@link Simd#VECTOR}. */
final class VectorAttention {
    private static final VectorSpecies<Float> F = CpuMatmul.F;
    private static final int L = F.length();

    private VectorAttention() {}

    /** exp(s - max) in place over [0, n) ({@link VectorMath#exp}; the tail {@link ScalarMath#exp}: the same bits); returns 1/sum, or 0 when every score is -inf. */
    static float softmaxInPlace(float[] s, int n) {
        return softmaxInPlace(s, 0, n);
    }

    /** As above over s[from, from + n). */
    static float softmaxInPlace(float[] s, int from, int n) {
        float max = Float.NEGATIVE_INFINITY;
        int end = from + n, m = from;
        if (n >= L) {
            FloatVector mx = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; m <= end - L; m += L) mx = mx.max(FloatVector.fromArray(F, s, m));
            max = mx.reduceLanes(jdk.incubator.vector.VectorOperators.MAX);
        }
        for (int j = m; j < end; j++) if (s[j] > max) max = s[j];
        if (max == Float.NEGATIVE_INFINITY) return 0f;
        FloatVector mv = FloatVector.broadcast(F, max), acc = FloatVector.zero(F);
        int j = from;
        for (; j <= end - L; j += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, s, j).sub(mv));
            e.intoArray(s, j);
            acc = acc.add(e);
        }
        double sum = VectorMath.sum(acc);
        for (; j < end; j++) {
            float e = ScalarMath.exp(s[j] - max);
            s[j] = e;
            sum += e;
        }
        return (float) (1.0 / sum);
    }

    static void directScores(float[] q, int qo, float[] k, KvView kv, int b, int kh, float[] s, int d, int n,
                                     float scale, boolean[] valid) {
        for (int j = 0; j < n; j++) {
            if (valid != null && !valid[j]) {
                s[j] = Float.NEGATIVE_INFINITY;
                continue;
            }
            int ko = (int) kv.offset(b, kh, j), e = 0;
            float dot = 0;
            if (d >= L) {
                FloatVector a = FloatVector.zero(F);
                for (; e <= d - L; e += L) a = FloatVector.fromArray(F, q, qo + e).fma(FloatVector.fromArray(F, k, ko + e), a);
                dot = VectorMath.sum(a);
            }
            for (; e < d; e++) dot += q[qo + e] * k[ko + e];
            s[j] = dot * scale;
        }
    }

    /**
     * Scores of one query against keys transposed into kt [d, kvLen]. Keys past the last full vector: one more vector
     * of separate multiply and add (the scalar tail's arithmetic, lane by lane) when kt and s have room for a whole
     * vector there ({@link CpuAttention} pads them by {@link #PAD}; the extra lanes are never read), else scalar.
     */
    static void scores(float[] q, int qo, float[] kt, float[] s, int d, int kvLen, int n, float scale) {
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector a = FloatVector.zero(F);
            for (int e = 0; e < d; e++) a = FloatVector.fromArray(F, kt, e * kvLen + j).fma(FloatVector.broadcast(F, q[qo + e]), a);
            a.mul(scale).intoArray(s, j);
        }
        if (j < n && (long) (d - 1) * kvLen + j + L <= kt.length && j + L <= s.length) {
            FloatVector a = FloatVector.zero(F);
            for (int e = 0; e < d; e++) a = a.add(FloatVector.fromArray(F, kt, e * kvLen + j).mul(q[qo + e]));
            a.mul(scale).intoArray(s, j);
            return;
        }
        for (; j < n; j++) {
            float dot = 0;
            for (int e = 0; e < d; e++) dot += q[qo + e] * kt[e * kvLen + j];
            s[j] = dot * scale;
        }
    }

    /** Elements of slack after the transposed keys and the scores, so that {@link #scores} ends on a whole vector. */
    static final int PAD = L;

    /** acc = inv · Σ_j s[j] · V[j]; register accumulators for head sizes of 1, 2, 4 or 8 vectors. */
    static void weightedSum(float[] s, float inv, int n, float[] v, KvView vv, int b, int kh, float[] acc, int d) {
        if (d == L || d == 2 * L || d == 4 * L || d == 8 * L) {
            for (int c = 0; c < d; c += 4 * L) {
                int w = Math.min(4, (d - c) / L);
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                for (int j = 0; j < n; j++) {
                    float pj = s[j];
                    if (pj == 0f) continue;
                    FloatVector p = FloatVector.broadcast(F, pj);
                    int o = (int) vv.offset(b, kh, j) + c;
                    a0 = FloatVector.fromArray(F, v, o).fma(p, a0);
                    if (w > 1) a1 = FloatVector.fromArray(F, v, o + L).fma(p, a1);
                    if (w > 2) {
                        a2 = FloatVector.fromArray(F, v, o + 2 * L).fma(p, a2);
                        a3 = FloatVector.fromArray(F, v, o + 3 * L).fma(p, a3);
                    }
                }
                a0.mul(inv).intoArray(acc, c);
                if (w > 1) a1.mul(inv).intoArray(acc, c + L);
                if (w > 2) {
                    a2.mul(inv).intoArray(acc, c + 2 * L);
                    a3.mul(inv).intoArray(acc, c + 3 * L);
                }
            }
            return;
        }
        if (d >= L) {
            weightedSumScaled(s, inv, n, v, vv, b, kh, acc, d);
            return;
        }
        for (int j = 0; j < n; j++) {
            float p = s[j] * inv;
            if (p != 0f) axpy(p, v, (int) vv.offset(b, kh, j), acc, d);
        }
    }

    /**
     * The {@link #axpy} loop (acc += (s[j]·inv) · V[j], fused per lane, keys in order) with up to four vectors of acc
     * held in registers across the keys instead of loaded and stored per key: the same operations per element.
     */
    private static void weightedSumScaled(float[] s, float inv, int n, float[] v, KvView vv, int b, int kh, float[] acc, int d) {
        int full = d - d % L;
        for (int c = 0; c < full; c += 4 * L) {
            int w = Math.min(4, (full - c) / L);
            FloatVector a0 = FloatVector.fromArray(F, acc, c);
            FloatVector a1 = w > 1 ? FloatVector.fromArray(F, acc, c + L) : a0;
            FloatVector a2 = w > 2 ? FloatVector.fromArray(F, acc, c + 2 * L) : a0;
            FloatVector a3 = w > 3 ? FloatVector.fromArray(F, acc, c + 3 * L) : a0;
            for (int j = 0; j < n; j++) {
                float p = s[j] * inv;
                if (p == 0f) continue;
                FloatVector pv = FloatVector.broadcast(F, p);
                int o = (int) vv.offset(b, kh, j) + c;
                a0 = FloatVector.fromArray(F, v, o).fma(pv, a0);
                if (w > 1) a1 = FloatVector.fromArray(F, v, o + L).fma(pv, a1);
                if (w > 2) a2 = FloatVector.fromArray(F, v, o + 2 * L).fma(pv, a2);
                if (w > 3) a3 = FloatVector.fromArray(F, v, o + 3 * L).fma(pv, a3);
            }
            a0.intoArray(acc, c);
            if (w > 1) a1.intoArray(acc, c + L);
            if (w > 2) a2.intoArray(acc, c + 2 * L);
            if (w > 3) a3.intoArray(acc, c + 3 * L);
        }
        if (full < d) {
            for (int j = 0; j < n; j++) {
                float p = s[j] * inv;
                if (p == 0f) continue;
                int vo = (int) vv.offset(b, kh, j);
                for (int e = full; e < d; e++) acc[e] += p * v[vo + e];
            }
        }
    }

    private static void axpy(float p, float[] v, int vo, float[] acc, int d) {
        int e = 0;
        if (d >= L) {
            FloatVector pv = FloatVector.broadcast(F, p);
            for (; e <= d - L; e += L) {
                FloatVector.fromArray(F, v, vo + e).fma(pv, FloatVector.fromArray(F, acc, e)).intoArray(acc, e);
            }
        }
        for (; e < d; e++) acc[e] += p * v[vo + e];
    }
}
