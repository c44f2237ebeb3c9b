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
        int group = heads / kv.heads();
        pool.parallelFor(batch * heads, (t0, t1) -> {
            float[] kt = new float[d * kvLen];
            float[] s = new float[kvLen];
            float[] acc = new float[d];
            int lastKey = -1;
            for (int t = t0; t < t1; t++) {
                int b = t / heads, h = t % heads, kh = h / group;
                int key = b * kv.heads() + kh;
                if (key != lastKey) {
                    for (int j = 0; j < kvLen; j++) {
                        int ko = (int) kv.offset(b, kh, j);
                        for (int e = 0; e < d; e++) kt[e * kvLen + j] = k[ko + e];
                    }
                    lastKey = key;
                }
                boolean[] valid = mask.keyValid() == null ? null : mask.keyValid()[b];
                for (int i = 0; i < sq; i++) {
                    int qo = ((b * sq + i) * heads + h) * d;
                    int visible = mask.causal() ? Math.min(kvLen, mask.queryOffset() + i + 1) : kvLen;
                    scores(q, qo, kt, s, d, kvLen, visible, scale);
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < visible; j++) {
                        if (valid != null && !valid[j]) {
                            s[j] = Float.NEGATIVE_INFINITY;
                            continue;
                        }
                        if (bias != null) s[j] += bias[(h * sq + i) * kvLen + j];
                        if (s[j] > max) max = s[j];
                    }
                    java.util.Arrays.fill(acc, 0f);
                    if (max != Float.NEGATIVE_INFINITY) {
                        double sum = 0;
                        for (int j = 0; j < visible; j++) {
                            float e = s[j] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(s[j] - max);
                            s[j] = e;
                            sum += e;
                        }
                        float inv = (float) (1.0 / sum);
                        for (int j = 0; j < visible; j++) {
                            float p = s[j] * inv;
                            if (p != 0f) axpy(p, v, (int) vv.offset(b, kh, j), acc, d);
                        }
                    }
                    System.arraycopy(acc, 0, out, qo, d);
                }
            }
        });
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
