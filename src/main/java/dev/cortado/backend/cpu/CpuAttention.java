package dev.cortado.backend.cpu;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.KvView;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Scaled dot-product attention on the CPU, one task per (batch, head); GQA by head grouping. Keys of a head are
 * first transposed into [D, kvLen] so that the scores of a query are D broadcast-FMAs over contiguous keys, and
 * the weighted sum of values is vectorized over the head dimension.
 */
final class CpuAttention {
    private static final VectorSpecies<Float> F = CpuMatmul.F;
    private static final int L = F.length();

    private CpuAttention() {}

    static void run(WorkerPool pool, float[] q, int heads, int d, KvView kv, float[] k, KvView vv, float[] v,
                    int kvLen, AttentionMask mask, float scale, float[] bias, float[] out, int batch, int sq) {
        run(pool, q, heads * d, heads, d, kv, k, vv, v, kvLen, mask, scale, bias, out, batch, sq);
    }

    /** As above with query rows {@code qStride} elements apart (a fused q|k|v projection: the query is a row's head). */
    static void run(WorkerPool pool, float[] q, int qStride, int heads, int d, KvView kv, float[] k, KvView vv, float[] v,
                    int kvLen, AttentionMask mask, float scale, float[] bias, float[] out, int batch, int sq) {
        int group = heads / kv.heads();
        pool.parallelFor(batch * heads, (t0, t1) -> {
            // prefill: keys transposed once per (row, kv head) so a query's scores are broadcast-FMAs over keys;
            // decode (few queries): dot products straight over the cached key rows, no transpose
            boolean direct = sq <= 2;
            float[] kt = direct ? null : new float[d * kvLen];
            float[] s = new float[kvLen];
            float[] acc = new float[d];
            int lastKey = -1;
            for (int t = t0; t < t1; t++) {
                int b = t / heads, h = t % heads, kh = h / group;
                int key = b * kv.heads() + kh;
                // keys a row does not own (padding, or beyond its length in a ragged batch) are never read
                boolean[] valid = mask.keyValid() == null ? null : mask.keyValid()[b];
                if (!direct && key != lastKey) {
                    for (int j = 0; j < kvLen; j++) {
                        if (valid != null && !valid[j]) {
                            for (int e = 0; e < d; e++) kt[e * kvLen + j] = 0f;
                            continue;
                        }
                        int ko = (int) kv.offset(b, kh, j);
                        for (int e = 0; e < d; e++) kt[e * kvLen + j] = k[ko + e];
                    }
                    lastKey = key;
                }
                for (int i = 0; i < sq; i++) {
                    int qo = (b * sq + i) * qStride + h * d, oo = ((b * sq + i) * heads + h) * d;
                    int visible = mask.causal() ? Math.min(kvLen, mask.queryOffset() + i + 1) : kvLen;
                    if (direct) directScores(q, qo, k, kv, b, kh, s, d, visible, scale, valid);
                    else scores(q, qo, kt, s, d, kvLen, visible, scale);
                    if (valid != null) for (int j = 0; j < visible; j++) if (!valid[j]) s[j] = Float.NEGATIVE_INFINITY;
                    if (bias != null) {
                        int bo = (h * sq + i) * kvLen;
                        for (int j = 0; j < visible; j++) s[j] += bias[bo + j];
                    }
                    java.util.Arrays.fill(acc, 0f);
                    float inv = softmaxInPlace(s, visible);
                    if (inv > 0) weightedSum(s, inv, visible, v, vv, b, kh, acc, d);
                    System.arraycopy(acc, 0, out, oo, d);
                }
            }
        });
    }

    /** exp(s - max) in place over [0, n) (Vector API exp); returns 1/sum, or 0 when every score is -inf. */
    static float softmaxInPlace(float[] s, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) if (s[j] > max) max = s[j];
        if (max == Float.NEGATIVE_INFINITY) return 0f;
        FloatVector mv = FloatVector.broadcast(F, max), acc = FloatVector.zero(F);
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector e = FloatVector.fromArray(F, s, j).sub(mv).lanewise(jdk.incubator.vector.VectorOperators.EXP);
            e.intoArray(s, j);
            acc = acc.add(e);
        }
        double sum = acc.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        for (; j < n; j++) {
            float e = (float) Math.exp(s[j] - max);
            s[j] = e;
            sum += e;
        }
        return (float) (1.0 / sum);
    }

    private static void directScores(float[] q, int qo, float[] k, KvView kv, int b, int kh, float[] s, int d, int n,
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
                dot = a.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
            }
            for (; e < d; e++) dot += q[qo + e] * k[ko + e];
            s[j] = dot * scale;
        }
    }

    private static void scores(float[] q, int qo, float[] kt, float[] s, int d, int kvLen, int n, float scale) {
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector a = FloatVector.zero(F);
            for (int e = 0; e < d; e++) a = FloatVector.fromArray(F, kt, e * kvLen + j).fma(FloatVector.broadcast(F, q[qo + e]), a);
            a.mul(scale).intoArray(s, j);
        }
        for (; j < n; j++) {
            float dot = 0;
            for (int e = 0; e < d; e++) dot += q[qo + e] * kt[e * kvLen + j];
            s[j] = dot * scale;
        }
    }

    /** acc = inv · Σ_j s[j] · V[j]; register accumulators for head sizes of 1, 2, 4 or 8 vectors. */
    private static void weightedSum(float[] s, float inv, int n, float[] v, KvView vv, int b, int kh, float[] acc, int d) {
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
        for (int j = 0; j < n; j++) {
            float p = s[j] * inv;
            if (p != 0f) axpy(p, v, (int) vv.offset(b, kh, j), acc, d);
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
