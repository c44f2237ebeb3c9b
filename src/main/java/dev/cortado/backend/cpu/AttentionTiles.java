package dev.cortado.backend.cpu;

import dev.cortado.backend.KvView;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Prefill attention as two small GEMMs per (batch, head) with the register tiles of {@link TileKernels}: the keys of
 * a head are packed once into panels [key block][headDim][NR], then {@link #ROWS} queries at a time get their scores
 * (ROWS × NR accumulators over the head dimension), a softmax per row, and the weighted sum of values (ROWS × NR
 * accumulators over the keys). One query at a time (the former path) loaded a key vector and a broadcast per FMA;
 * a tile loads 2 key vectors per 16 FMAs. The order of operations per output lane is the per-row path's (scores: FMA
 * over the head dimension then × scale; values: FMA over keys then × 1/sum), so results are the same.
 * Reached through {@link CpuAttention} only on AVX-512 ({@link PackedMatmul#TILE8}) and head sizes that are a multiple
 * of NR.
 */
final class AttentionTiles {
    static final VectorSpecies<Float> F = CpuMatmul.F;
    static final int L = F.length();
    static final int NR = 2 * L;
    /** Query rows per tile. */
    static final int ROWS = 8;

    private AttentionTiles() {}

    static boolean supports(int d) {
        return PackedMatmul.TILE8 && d % NR == 0;
    }

    /** Number of key panels (NR keys each) covering n keys. */
    static int panels(int n) {
        return (n + NR - 1) / NR;
    }

    /**
     * Keys 0..n-1 of (b, kh) into kp[(p·d + e)·NR + j%NR], p = j / NR; padding keys and the tail are zero. Key element
     * (b, kh, j, e) is at k[kBase + kv.offset(b, kh, j) + e]. Keys at a fixed stride (a projection's rows, a contiguous
     * cache) are read with vector gathers, NR keys of one element at a time (the scalar transpose was 3 % of a batch-1
     * encoder pass on one thread); {@code map} is scratch for the gather's index map (NR ints).
     */
    static void packKeys(float[] k, int kBase, KvView kv, int b, int kh, int d, int n, boolean[] valid, float[] kp, int[] map) {
        int panels = panels(n), full = n / NR;
        long rs = kv.posStride(), first = kBase + kv.offset(b, kh, 0);
        if (kv.isPaged() || full == 0 || first + (long) (n - 1) * rs + d > k.length || rs > Integer.MAX_VALUE / NR) {
            packKeysScalar(k, kBase, kv, b, kh, d, n, valid, kp, 0);
            return;
        }
        int stride = (int) rs, k0 = (int) first;
        if (map[1] != stride) for (int jj = 0; jj < NR; jj++) map[jj] = jj * stride;
        for (int p = 0; p < full; p++) {
            int src = k0 + p * NR * stride, dst = p * d * NR;
            for (int e = 0; e < d; e++, dst += NR) {
                FloatVector.fromArray(F, k, src + e, map, 0).intoArray(kp, dst);
                FloatVector.fromArray(F, k, src + e, map, L).intoArray(kp, dst + L);
            }
        }
        if (valid != null) {
            for (int j = 0; j < full * NR; j++) {
                if (valid[j]) continue;
                int base = (j / NR) * d * NR + j % NR;
                for (int e = 0; e < d; e++) kp[base + e * NR] = 0f;
            }
        }
        if (full < panels) packKeysScalar(k, kBase, kv, b, kh, d, n, valid, kp, full);
    }

    /** {@link #packKeys} of the panels from {@code fromPanel} on, one element at a time (zeroed first). */
    private static void packKeysScalar(float[] k, int kBase, KvView kv, int b, int kh, int d, int n, boolean[] valid,
                                       float[] kp, int fromPanel) {
        int panels = panels(n);
        java.util.Arrays.fill(kp, fromPanel * d * NR, panels * d * NR, 0f);
        for (int j = fromPanel * NR; j < n; j++) {
            if (valid != null && !valid[j]) continue;
            int ko = kBase + (int) kv.offset(b, kh, j), base = (j / NR) * d * NR + j % NR;
            for (int e = 0; e < d; e++) kp[base + e * NR] = k[ko + e];
        }
    }

    /**
     * s[r·stride + j] = scale · q_r · k_j for ROWS query rows (row r at q[qo[r]]) and every key of the first
     * {@code panels} panels.
     */
    static void scores(float[] q, int[] qo, float[] kp, int d, int panels, float scale, float[] s, int stride) {
        int q0 = qo[0], q1 = qo[1], q2 = qo[2], q3 = qo[3], q4 = qo[4], q5 = qo[5], q6 = qo[6], q7 = qo[7];
        for (int p = 0; p < panels; p++) {
            FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
            FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
            for (int e = 0, o = p * d * NR; e < d; e++, o += NR) {
                FloatVector w0 = FloatVector.fromArray(F, kp, o), w1 = FloatVector.fromArray(F, kp, o + L);
                FloatVector x = FloatVector.broadcast(F, q[q0 + e]);
                c00 = w0.fma(x, c00); c01 = w1.fma(x, c01);
                x = FloatVector.broadcast(F, q[q1 + e]);
                c10 = w0.fma(x, c10); c11 = w1.fma(x, c11);
                x = FloatVector.broadcast(F, q[q2 + e]);
                c20 = w0.fma(x, c20); c21 = w1.fma(x, c21);
                x = FloatVector.broadcast(F, q[q3 + e]);
                c30 = w0.fma(x, c30); c31 = w1.fma(x, c31);
                x = FloatVector.broadcast(F, q[q4 + e]);
                c40 = w0.fma(x, c40); c41 = w1.fma(x, c41);
                x = FloatVector.broadcast(F, q[q5 + e]);
                c50 = w0.fma(x, c50); c51 = w1.fma(x, c51);
                x = FloatVector.broadcast(F, q[q6 + e]);
                c60 = w0.fma(x, c60); c61 = w1.fma(x, c61);
                x = FloatVector.broadcast(F, q[q7 + e]);
                c70 = w0.fma(x, c70); c71 = w1.fma(x, c71);
            }
            int j = p * NR;
            c00.mul(scale).intoArray(s, j); c01.mul(scale).intoArray(s, j + L);
            c10.mul(scale).intoArray(s, stride + j); c11.mul(scale).intoArray(s, stride + j + L);
            c20.mul(scale).intoArray(s, 2 * stride + j); c21.mul(scale).intoArray(s, 2 * stride + j + L);
            c30.mul(scale).intoArray(s, 3 * stride + j); c31.mul(scale).intoArray(s, 3 * stride + j + L);
            c40.mul(scale).intoArray(s, 4 * stride + j); c41.mul(scale).intoArray(s, 4 * stride + j + L);
            c50.mul(scale).intoArray(s, 5 * stride + j); c51.mul(scale).intoArray(s, 5 * stride + j + L);
            c60.mul(scale).intoArray(s, 6 * stride + j); c61.mul(scale).intoArray(s, 6 * stride + j + L);
            c70.mul(scale).intoArray(s, 7 * stride + j); c71.mul(scale).intoArray(s, 7 * stride + j + L);
        }
    }

    /**
     * Values 0..n-1 of (b, kh) into column blocks of NR: vp[(c·n + j)·NR + e % NR] for c = e / NR (read 8 query rows at
     * a time, index-linear with the constant stride NR, so C2 drops the bounds checks from the loop over keys; for a
     * head of NR elements, contiguous rows); value element (b, kh, j, e) is at v[vBase + vv.offset(b, kh, j) + e].
     */
    static void packValues(float[] v, int vBase, KvView vv, int b, int kh, int d, int n, float[] vp) {
        for (int j = 0; j < n; j++) {
            int src = vBase + (int) vv.offset(b, kh, j);
            for (int c = 0; c < d; c += NR) System.arraycopy(v, src + c, vp, ((c / NR) * n + j) * NR, NR);
        }
    }

    /**
     * out[oo[r] + c] = inv[r] · Σ_{j<n} s[r·stride + j] · vp[…j, c] for the first {@code rows} rows (the others
     * are computed and dropped); vp as {@link #packValues} wrote it for {@code packed} ≥ n values. Keys with valid[j]
     * false have weight 0 in every row; the loop stops after the last valid key.
     */
    static void weightedSum(float[] s, int stride, int n, float[] vp, int packed, boolean[] valid, int d, float[] inv,
                            float[] out, int[] oo, int rows) {
        if (valid != null) while (n > 0 && !valid[n - 1]) n--;
        for (int c = 0; c < d; c += NR) sumTile(s, stride, n, vp, (c / NR) * packed * NR, inv, out, oo, rows, c);
    }

    /** One NR-wide column block of {@link #weightedSum}: value row j at v[base + j·NR]. */
    private static void sumTile(float[] s, int stride, int n, float[] v, int base, float[] inv,
                                float[] out, int[] oo, int rows, int c) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        FloatVector c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
        int s1 = stride, s2 = 2 * stride, s3 = 3 * stride, s4 = 4 * stride, s5 = 5 * stride, s6 = 6 * stride, s7 = 7 * stride;
        for (int j = 0, o = base; j < n; j++, o += NR) {
            FloatVector w0 = FloatVector.fromArray(F, v, o), w1 = FloatVector.fromArray(F, v, o + L);
            FloatVector x = FloatVector.broadcast(F, s[j]);
            c00 = w0.fma(x, c00); c01 = w1.fma(x, c01);
            x = FloatVector.broadcast(F, s[s1 + j]);
            c10 = w0.fma(x, c10); c11 = w1.fma(x, c11);
            x = FloatVector.broadcast(F, s[s2 + j]);
            c20 = w0.fma(x, c20); c21 = w1.fma(x, c21);
            x = FloatVector.broadcast(F, s[s3 + j]);
            c30 = w0.fma(x, c30); c31 = w1.fma(x, c31);
            x = FloatVector.broadcast(F, s[s4 + j]);
            c40 = w0.fma(x, c40); c41 = w1.fma(x, c41);
            x = FloatVector.broadcast(F, s[s5 + j]);
            c50 = w0.fma(x, c50); c51 = w1.fma(x, c51);
            x = FloatVector.broadcast(F, s[s6 + j]);
            c60 = w0.fma(x, c60); c61 = w1.fma(x, c61);
            x = FloatVector.broadcast(F, s[s7 + j]);
            c70 = w0.fma(x, c70); c71 = w1.fma(x, c71);
        }
        c00.mul(inv[0]).intoArray(out, oo[0] + c); c01.mul(inv[0]).intoArray(out, oo[0] + c + L);
        if (rows > 1) { c10.mul(inv[1]).intoArray(out, oo[1] + c); c11.mul(inv[1]).intoArray(out, oo[1] + c + L); }
        if (rows > 2) { c20.mul(inv[2]).intoArray(out, oo[2] + c); c21.mul(inv[2]).intoArray(out, oo[2] + c + L); }
        if (rows > 3) { c30.mul(inv[3]).intoArray(out, oo[3] + c); c31.mul(inv[3]).intoArray(out, oo[3] + c + L); }
        if (rows > 4) { c40.mul(inv[4]).intoArray(out, oo[4] + c); c41.mul(inv[4]).intoArray(out, oo[4] + c + L); }
        if (rows > 5) { c50.mul(inv[5]).intoArray(out, oo[5] + c); c51.mul(inv[5]).intoArray(out, oo[5] + c + L); }
        if (rows > 6) { c60.mul(inv[6]).intoArray(out, oo[6] + c); c61.mul(inv[6]).intoArray(out, oo[6] + c + L); }
        if (rows > 7) { c70.mul(inv[7]).intoArray(out, oo[7] + c); c71.mul(inv[7]).intoArray(out, oo[7] + c + L); }
    }
}
