package dev.cortado.backend.cpu;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.KvView;

/**
 * Scaled dot-product attention on the CPU, one task per (batch, head); GQA by head grouping. Keys of a head are
 * first transposed into [D, kvLen] so that the scores of a query are D broadcast-FMAs over contiguous keys, and
 * the weighted sum of values is vectorized over the head dimension ({@link VectorAttention} when {@link Simd#VECTOR};
 * the scalar loops below otherwise, with the same order of operations per lane).
 */
final class CpuAttention {
    private CpuAttention() {}

    static void run(WorkerPool pool, float[] q, int heads, int d, KvView kv, float[] k, KvView vv, float[] v,
                    int kvLen, AttentionMask mask, float scale, float[] bias, float[] out, int batch, int sq) {
        run(pool, q, heads * d, heads, d, kv, k, vv, v, kvLen, mask, scale, bias, out, batch, sq, Simd.VECTOR);
    }

    /** As above with query rows {@code qStride} elements apart (a fused q|k|v projection: the query is a row's head). */
    static void run(WorkerPool pool, float[] q, int qStride, int heads, int d, KvView kv, float[] k, KvView vv, float[] v,
                    int kvLen, AttentionMask mask, float scale, float[] bias, float[] out, int batch, int sq) {
        run(pool, q, qStride, heads, d, kv, k, vv, v, kvLen, mask, scale, bias, out, batch, sq, Simd.VECTOR);
    }

    static void run(WorkerPool pool, float[] q, int heads, int d, KvView kv, float[] k, KvView vv, float[] v,
                    int kvLen, AttentionMask mask, float scale, float[] bias, float[] out, int batch, int sq, boolean vector) {
        run(pool, q, heads * d, heads, d, kv, k, vv, v, kvLen, mask, scale, bias, out, batch, sq, vector);
    }

    /** {@code vector}: the Vector API kernels (only when {@link Simd#VECTOR}) or the scalar ones (tests compare both). */
    static void run(WorkerPool pool, float[] q, int qStride, int heads, int d, KvView kv, float[] k, KvView vv, float[] v,
                    int kvLen, AttentionMask mask, float scale, float[] bias, float[] out, int batch, int sq, boolean vector) {
        int group = heads / kv.heads();
        int pad = vector ? VectorAttention.PAD : 0;   // VectorAttention is loaded only with the Vector API
        // prefill: keys transposed once per (row, kv head) so a query's scores are broadcast-FMAs over keys;
        // decode (few queries): dot products straight over the cached key rows, no transpose
        boolean direct = sq <= 2;
        if (!direct && vector && AttentionTiles.supports(d)) {
            // the query heads of one kv head per claim (its keys packed once), the threads finish within a claim
            Balanced.run(pool, batch * heads, group, c -> tiled(q, qStride, heads, d, group, kv, k, 0, vv, v, 0, kvLen, mask,
                    scale, bias, out, sq, c));
            return;
        }
        pool.parallelFor(batch * heads, (t0, t1) -> {
            float[] kt = direct ? null : new float[d * kvLen + pad];
            // scores and the head's accumulator: per-thread scratch (every score a query reads is written first, and
            // acc is cleared per query), not two arrays per chunk and layer of every decode step
            float[] s = scores(kvLen + pad);
            float[] acc = direct ? accumulator(d) : new float[d];
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
                    if (direct && vector) VectorAttention.directScores(q, qo, k, kv, b, kh, s, d, visible, scale, valid);
                    else if (direct) directScores(q, qo, k, kv, b, kh, s, d, visible, scale, valid);
                    else if (vector) VectorAttention.scores(q, qo, kt, s, d, kvLen, visible, scale);
                    else scores(q, qo, kt, s, d, kvLen, visible, scale);
                    if (valid != null) for (int j = 0; j < visible; j++) if (!valid[j]) s[j] = Float.NEGATIVE_INFINITY;
                    if (bias != null) {
                        int bo = (h * sq + i) * kvLen;
                        for (int j = 0; j < visible; j++) s[j] += bias[bo + j];
                    }
                    java.util.Arrays.fill(acc, 0f);
                    float inv = vector ? VectorAttention.softmaxInPlace(s, visible) : softmaxInPlace(s, visible);
                    if (inv > 0 && vector) VectorAttention.weightedSum(s, inv, visible, v, vv, b, kh, acc, d);
                    else if (inv > 0) weightedSum(s, inv, visible, v, vv, b, kh, acc, d);
                    System.arraycopy(acc, 0, out, oo, d);
                }
            }
        });
    }

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);

    /** This thread's score scratch, at least n long (grown, never shrunk). */
    private static float[] scores(int n) {
        float[][] s = SCRATCH.get();
        if (s[0].length < n) s[0] = new float[Math.max(n, 2 * s[0].length)];
        return s[0];
    }

    /** This thread's head accumulator, exactly d long (System.arraycopy reads all of it). */
    private static float[] accumulator(int d) {
        float[][] s = SCRATCH.get();
        if (s[1].length != d) s[1] = new float[d];
        return s[1];
    }

    /** True when {@link #runInPlace} applies: a prefill (more than 2 queries) on the tiled kernels. */
    static boolean readsInPlace(int d, int sq) {
        return Simd.VECTOR && sq > 2 && AttentionTiles.supports(d);
    }

    /**
     * Bidirectional self-attention over one fused projection qkv [B, S, cols] (q, k, v columns in that order, cols =
     * (heads + 2·kvHeads)·d): keys and values are packed per head straight from its rows, so they are never copied
     * into contiguous [B, S, kvHeads·d] first. Only when {@link #readsInPlace}; kvLen = S.
     */
    static void runInPlace(WorkerPool pool, float[] qkv, int cols, int heads, int kvHeads, int d, AttentionMask mask,
                           float scale, float[] bias, float[] out, int batch, int sq) {
        KvView rows = new KvView(null, kvHeads, d, (long) sq * cols, d, cols);
        int group = heads / kvHeads, kBase = heads * d, vBase = kBase + kvHeads * d;
        Balanced.run(pool, batch * heads, group, c ->
                tiled(qkv, cols, heads, d, group, rows, qkv, kBase, rows, qkv, vBase, sq, mask, scale, bias, out, sq, c));
    }

    /** keyValid row b, or null when every one of its first n keys is valid (then no per-key mask work is done). */
    static boolean[] validRow(AttentionMask mask, int b, int n) {
        boolean[] valid = mask.keyValid() == null ? null : mask.keyValid()[b];
        if (valid == null) return null;
        for (int j = 0; j < n; j++) if (!valid[j]) return valid;
        return null;
    }

    /**
     * The tasks (batch × head) this thread claims of a prefill through {@link AttentionTiles}: {@link AttentionTiles#ROWS}
     * queries at a time; key (value) element (b, h, p, e) at k[kBase + kv.offset(b, h, p) + e] (v[vBase + …]).
     */
    private static void tiled(float[] q, int qStride, int heads, int d, int group, KvView kv, float[] k, int kBase, KvView vv,
                              float[] v, int vBase, int kvLen, AttentionMask mask, float scale, float[] bias, float[] out,
                              int sq, Balanced.Claims c) {
        final int rowsPerTile = AttentionTiles.ROWS;
        int stride = AttentionTiles.panels(kvLen) * AttentionTiles.NR;
        TileScratch ts = TileScratch.of(stride * d, kvLen * d, rowsPerTile * stride);
        float[] kp = ts.kp, vp = ts.vp, st = ts.st, inv = ts.inv;
        int[] qo = ts.qo, oo = ts.oo, vis = ts.vis;
        int lastKey = -1;
        while (c.next()) for (int t = c.from(); t < c.to(); t++) {
            int b = t / heads, h = t % heads, kh = h / group, key = b * kv.heads() + kh;
            boolean[] valid = validRow(mask, b, kvLen);
            if (key != lastKey) {
                AttentionTiles.packKeys(k, kBase, kv, b, kh, d, kvLen, valid, kp, ts.map);
                AttentionTiles.packValues(v, vBase, vv, b, kh, d, kvLen, vp);
                lastKey = key;
            }
            for (int i0 = 0; i0 < sq; i0 += rowsPerTile) {
                int rows = Math.min(rowsPerTile, sq - i0), n = 0;
                for (int r = 0; r < rowsPerTile; r++) {
                    int i = i0 + Math.min(r, rows - 1); // the last tile repeats its last row (computed, not stored)
                    qo[r] = (b * sq + i) * qStride + h * d;
                    oo[r] = ((b * sq + i) * heads + h) * d;
                    vis[r] = mask.causal() ? Math.min(kvLen, mask.queryOffset() + i + 1) : kvLen;
                    n = Math.max(n, vis[r]);
                }
                AttentionTiles.scores(q, qo, kp, d, AttentionTiles.panels(n), scale, st, stride);
                for (int r = 0; r < rowsPerTile; r++) {
                    int so = r * stride, visible = vis[r];
                    if (r >= rows) {
                        java.util.Arrays.fill(st, so, so + n, 0f);
                        inv[r] = 0f;
                        continue;
                    }
                    if (valid != null) for (int j = 0; j < visible; j++) if (!valid[j]) st[so + j] = Float.NEGATIVE_INFINITY;
                    if (bias != null) {
                        int bo = (h * sq + i0 + r) * kvLen;
                        for (int j = 0; j < visible; j++) st[so + j] += bias[bo + j];
                    }
                    inv[r] = VectorAttention.softmaxInPlace(st, so, visible);
                    java.util.Arrays.fill(st, inv[r] > 0 ? so + visible : so, so + n, 0f);
                }
                AttentionTiles.weightedSum(st, stride, n, vp, kvLen, valid, d, inv, out, oo, rows);
            }
        }
    }

    /**
     * Per-thread scratch of {@link #tiled}, kept between calls (a fresh set per op and thread was the largest steady
     * allocation of an encoder pass at batch 1): packed keys, values and the score tile; each call writes every element
     * it reads (packKeys zeroes its panels, scores/softmax fill the columns weightedSum reads). A task never runs inside
     * another on one thread.
     */
    private static final class TileScratch {
        private static final ThreadLocal<TileScratch> LOCAL = ThreadLocal.withInitial(TileScratch::new);
        float[] kp = new float[0], vp = kp, st = kp;
        final float[] inv = new float[AttentionTiles.ROWS];
        final int[] qo = new int[AttentionTiles.ROWS], oo = new int[AttentionTiles.ROWS], vis = new int[AttentionTiles.ROWS];
        /** The key gather's index map ({@link AttentionTiles#packKeys}): filled on first use for a key stride. */
        final int[] map = new int[AttentionTiles.NR];

        static TileScratch of(int keys, int values, int scores) {
            TileScratch t = LOCAL.get();
            if (t.kp.length < keys) t.kp = new float[keys];
            if (t.vp.length < values) t.vp = new float[values];
            if (t.st.length < scores) t.st = new float[scores];
            return t;
        }
    }

    /** exp(s - max) in place over [0, n); returns 1/sum, or 0 when every score is -inf. */
    static float softmaxInPlace(float[] s, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) if (s[j] > max) max = s[j];
        if (max == Float.NEGATIVE_INFINITY) return 0f;
        double sum = 0;
        for (int j = 0; j < n; j++) {
            float e = ScalarMath.exp(s[j] - max);
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
            int ko = (int) kv.offset(b, kh, j);
            float dot = 0;
            for (int e = 0; e < d; e++) dot = Math.fma(q[qo + e], k[ko + e], dot);
            s[j] = dot * scale;
        }
    }

    private static void scores(float[] q, int qo, float[] kt, float[] s, int d, int kvLen, int n, float scale) {
        for (int j = 0; j < n; j++) s[j] = 0f;
        for (int e = 0; e < d; e++) {
            float qe = q[qo + e];
            int o = e * kvLen;
            for (int j = 0; j < n; j++) s[j] = Math.fma(kt[o + j], qe, s[j]);
        }
        for (int j = 0; j < n; j++) s[j] *= scale;
    }

    /** acc = inv · Σ_j s[j] · V[j]. */
    private static void weightedSum(float[] s, float inv, int n, float[] v, KvView vv, int b, int kh, float[] acc, int d) {
        for (int j = 0; j < n; j++) {
            float pj = s[j];
            if (pj == 0f) continue;
            int o = (int) vv.offset(b, kh, j);
            for (int e = 0; e < d; e++) acc[e] = Math.fma(v[o + e], pj, acc[e]);
        }
        for (int e = 0; e < d; e++) acc[e] *= inv;
    }
}
