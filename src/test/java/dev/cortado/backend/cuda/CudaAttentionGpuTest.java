package dev.cortado.backend.cuda;

import static dev.cortado.backend.cuda.GpuTestSupport.assertClose;
import static dev.cortado.backend.cuda.GpuTestSupport.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.cortado.tensor.DType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** KV cache write, decode and prefill attention, T5 bias against Java references; skips without a GPU. */
@Tag("gpu")
class CudaAttentionGpuTest {

    /** A paged cache filled with random values, blocks assigned in shuffled order. */
    record Cache(float[] k, float[] v, int[] table, int blockSize, int maxBlocks, int kvh, int d) {
        static Cache random(Random r, DType t, int batch, int maxSeq, int blockSize, int kvh, int d) {
            int maxBlocks = Math.ceilDiv(maxSeq, blockSize);
            int slots = batch * maxBlocks * blockSize;
            List<Integer> phys = new ArrayList<>();
            for (int i = 0; i < batch * maxBlocks; i++) phys.add(i);
            Collections.shuffle(phys, r);
            int[] table = new int[batch * maxBlocks];
            for (int i = 0; i < table.length; i++) table[i] = phys.get(i);
            return new Cache(GpuTestSupport.random(r, t, slots * kvh * d, 1), GpuTestSupport.random(r, t,
                    slots * kvh * d, 1), table, blockSize, maxBlocks, kvh, d);
        }

        int row(int b, int pos, int head) {
            int blk = table[b * maxBlocks + pos / blockSize];
            return ((blk * blockSize + pos % blockSize) * kvh + head) * d;
        }

        KvCacheView view(GpuTestSupport.Scope sc, DType t) {
            return new KvCacheView(sc.upload(t, k), sc.upload(t, v), sc.upload(table), blockSize, maxBlocks, kvh, d);
        }
    }

    /**
     * Reference attention of one query row (fp64): keys 0 .. kvLen - 1 except masked ones and (causal) those after
     * qpos; score = scale * q.k + bias(j).
     */
    static double[] attend(float[] q, int qOff, Cache c, int b, int kvHead, int kvLen, int qpos, boolean causal,
                           byte[] mask, int maskStride, float[] bias, int biasOff, double scale) {
        int d = c.d();
        double[] s = new double[kvLen];
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < kvLen; j++) {
            boolean ok = (!causal || j <= qpos) && (mask == null || mask[b * maskStride + j] != 0);
            if (!ok) {
                s[j] = Double.NEGATIVE_INFINITY;
                continue;
            }
            double dot = 0;
            int kr = c.row(b, j, kvHead);
            for (int e = 0; e < d; e++) dot += (double) q[qOff + e] * c.k()[kr + e];
            s[j] = dot * scale + (bias == null ? 0 : bias[biasOff + j]);
            m = Math.max(m, s[j]);
        }
        double[] out = new double[d];
        if (m == Double.NEGATIVE_INFINITY) return out;
        double z = 0;
        for (int j = 0; j < kvLen; j++) {
            if (s[j] == Double.NEGATIVE_INFINITY) continue;
            double p = Math.exp(s[j] - m);
            z += p;
            int vr = c.row(b, j, kvHead);
            for (int e = 0; e < d; e++) out[e] += p * c.v()[vr + e];
        }
        for (int e = 0; e < d; e++) out[e] /= z;
        return out;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void decodeOverAPagedCacheWithGqaMaskAndBias(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        Random r = new Random(21);
        for (int d : new int[] {64, 128}) {
            int batch = 3, h = 8, kvh = 2, maxSeq = 1200, bs = 16;
            int[] lens = {1, 37, 1100};                   // 1100 keys: three partitions of 512
            Cache c = Cache.random(r, t, batch, maxSeq, bs, kvh, d);
            float[] q = random(r, t, batch * h * d, 1);
            byte[] mask = new byte[batch * maxSeq];
            java.util.Arrays.fill(mask, (byte) 1);
            for (int j = 0; j < 5; j++) mask[maxSeq + j] = 0;      // left padding of sequence 1
            float[] bias = random(r, DType.F32, batch * h * maxSeq, 2);
            for (boolean withExtras : new boolean[] {false, true}) {
                double scale = withExtras ? 1.0 : 1 / Math.sqrt(d);  // T5: no scaling
                try (var sc = new GpuTestSupport.Scope(ctx)) {
                    KvCacheView view = c.view(sc, t);
                    long out = sc.alloc((long) batch * h * d * t.byteSize()).address();
                    long ws = sc.alloc(AttentionKernels.decodeWorkspaceBytes(batch, h, d, maxSeq)).address();
                    AttentionMask m = withExtras ? AttentionMask.keys(sc.upload(mask), maxSeq)
                            .withBias(sc.upload(DType.F32, bias), (long) h * maxSeq, maxSeq, 0) : AttentionMask.NONE;
                    ctx.kernels().attention().decode(t, out, sc.upload(t, q), (long) h * d, view, sc.upload(lens), batch,
                            h, maxSeq, (float) scale, m, ws, null);
                    double[] want = new double[batch * h * d];
                    for (int b = 0; b < batch; b++)
                        for (int hh = 0; hh < h; hh++) {
                            double[] o = attend(q, (b * h + hh) * d, c, b, hh / (h / kvh), lens[b], lens[b] - 1, false,
                                    withExtras ? mask : null, maxSeq, withExtras ? bias : null, (b * h + hh) * maxSeq,
                                    scale);
                            System.arraycopy(o, 0, want, (b * h + hh) * d, d);
                        }
                    assertClose("decode " + t + " d=" + d + " mask+bias=" + withExtras, GpuTestSupport.tol(t), want,
                            sc.download(t, out, want.length), null);
                }
            }
        }
    }

    @Test
    void decodeWithOnePartitionWritesTheOutputDirectly() {
        CudaContext ctx = GpuTestSupport.context();
        DType t = DType.F16;
        Random r = new Random(22);
        int batch = 2, h = 4, kvh = 4, d = 64, maxSeq = 300;
        Cache c = Cache.random(r, t, batch, maxSeq, maxSeq, kvh, d);   // contiguous: one block per sequence
        Cache contiguous = new Cache(c.k(), c.v(), new int[] {0, 1}, maxSeq, 1, kvh, d);
        float[] q = random(r, t, batch * h * d, 1);
        int[] lens = {300, 0};                                            // an empty sequence gives zeros
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            KvCacheView view = KvCacheView.contiguous(sc.upload(t, c.k()), sc.upload(t, c.v()), maxSeq, kvh, d);
            long out = sc.alloc((long) batch * h * d * 2).address();
            ctx.kernels().attention().decode(t, out, sc.upload(t, q), (long) h * d, view, sc.upload(lens), batch, h,
                    maxSeq, 0.125f, null, 0, null);
            double[] want = new double[batch * h * d];
            for (int hh = 0; hh < h; hh++) {
                double[] o = attend(q, hh * d, contiguous, 0, hh, 300, 299, false, null, 0, null, 0, 0.125);
                System.arraycopy(o, 0, want, hh * d, d);
            }
            assertClose("decode single partition", t, want, sc.download(t, out, want.length));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void prefillCausalWithCachedPrefixPaddingAndBias(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        Random r = new Random(23);
        for (int d : new int[] {64, 256}) {           // 256 needs the shared-memory opt-in
            int batch = 2, lq = 40, h = 4, kvh = 2, maxSeq = 80, bs = 16;
            int[] kvLens = {40, 70}, qLens = {33, 40};  // sequence 0: 7 padding rows; sequence 1: 30 cached tokens
            Cache c = Cache.random(r, t, batch, maxSeq, bs, kvh, d);
            int qStride = h * d;
            float[] q = random(r, t, batch * lq * qStride, 1);
            byte[] mask = new byte[batch * maxSeq];
            java.util.Arrays.fill(mask, (byte) 1);
            mask[3] = 0;
            float[] bias = random(r, DType.F32, h * lq * maxSeq, 1);   // broadcast over the batch
            for (boolean causal : new boolean[] {true, false}) {
                double scale = 1 / Math.sqrt(d);
                try (var sc = new GpuTestSupport.Scope(ctx)) {
                    KvCacheView view = c.view(sc, t);
                    long out = sc.alloc((long) batch * lq * h * d * t.byteSize()).address();
                    AttentionMask m = AttentionMask.keys(sc.upload(mask), maxSeq)
                            .withBias(sc.upload(DType.F32, bias), 0, (long) lq * maxSeq, maxSeq);
                    ctx.kernels().attention().prefill(t, out, sc.upload(t, q), qStride, lq, view, sc.upload(kvLens),
                            sc.upload(qLens), batch, h, (float) scale, causal, m, null);
                    double[] want = new double[batch * lq * h * d];
                    for (int b = 0; b < batch; b++)
                        for (int i = 0; i < qLens[b]; i++)
                            for (int hh = 0; hh < h; hh++) {
                                int qpos = kvLens[b] - qLens[b] + i;
                                double[] o = attend(q, (b * lq + i) * qStride + hh * d, c, b, hh / (h / kvh),
                                        kvLens[b], qpos, causal, mask, maxSeq, bias, (hh * lq + i) * maxSeq, scale);
                                System.arraycopy(o, 0, want, ((b * lq + i) * h + hh) * d, d);
                            }
                    assertClose("prefill " + t + " d=" + d + " causal=" + causal, t, want,
                            sc.download(t, out, want.length));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void kvCacheWriteFillsSlotsFromAFusedProjection(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        Random r = new Random(24);
        int tokens = 6, h = 4, kvh = 2, d = 64, bs = 4, blocks = 5;
        int stride = (h + 2 * kvh) * d;
        float[] qkv = random(r, t, tokens * stride, 1);
        long[] slots = {0, 1, 13, 7, -1, 19};
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            int cacheElems = blocks * bs * kvh * d;
            KvCacheView view = new KvCacheView(sc.zeros((long) cacheElems * t.byteSize()),
                    sc.zeros((long) cacheElems * t.byteSize()), 0, bs, blocks, kvh, d);
            long base = sc.upload(t, qkv);
            long k = base + (long) h * d * t.byteSize(), v = k + (long) kvh * d * t.byteSize();
            ctx.kernels().kvCacheWrite(t, view, k, v, sc.upload(slots), tokens, stride, stride, null);
            float[] wantK = new float[cacheElems], wantV = new float[cacheElems];
            for (int i = 0; i < tokens; i++) {
                if (slots[i] < 0) continue;
                for (int e = 0; e < kvh * d; e++) {
                    wantK[(int) slots[i] * kvh * d + e] = qkv[i * stride + h * d + e];
                    wantV[(int) slots[i] * kvh * d + e] = qkv[i * stride + (h + kvh) * d + e];
                }
            }
            assertArrayEquals(wantK, sc.download(t, view.kCache(), cacheElems));
            assertArrayEquals(wantV, sc.download(t, view.vCache(), cacheElems));
        }
    }

    /** HF T5Attention._relative_position_bucket, emulating its float32 arithmetic. */
    static int t5Bucket(int rel, boolean bidirectional, int numBuckets, int maxDistance) {
        int bucket = 0, n = numBuckets;
        if (bidirectional) {
            n /= 2;
            if (rel > 0) bucket += n;
            rel = Math.abs(rel);
        } else {
            rel = -Math.min(rel, 0);
        }
        int maxExact = n / 2;
        if (rel < maxExact) return bucket + rel;
        float a = (float) Math.log((float) rel / (float) maxExact);
        float den = (float) Math.log((double) maxDistance / maxExact);
        float v = a / den * (float) (n - maxExact);
        return bucket + Math.min(maxExact + (int) v, n - 1);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void t5RelativePositionBias(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        Random r = new Random(25);
        int h = 6, lq = 5, lk = 300, nb = 32, maxDist = 128, batch = 2;
        float[] table = random(r, t, nb * h, 3);
        int[] offsets = {0, 295};
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            for (boolean bidir : new boolean[] {true, false}) {
                long out = sc.alloc(4L * batch * h * lq * lk).address();
                ctx.kernels().attention().t5Bias(t, out, sc.upload(t, table), sc.upload(offsets), batch, h, lq, lk,
                        bidir, nb, maxDist, null);
                float[] got = sc.download(DType.F32, out, batch * h * lq * lk);
                float[] want = new float[got.length];
                for (int b = 0; b < batch; b++)
                    for (int hh = 0; hh < h; hh++)
                        for (int i = 0; i < lq; i++)
                            for (int j = 0; j < lk; j++)
                                want[((b * h + hh) * lq + i) * lk + j] =
                                        table[t5Bucket(j - (offsets[b] + i), bidir, nb, maxDist) * h + hh];
                assertArrayEquals(want, got, "t5 bias bidirectional=" + bidir);
            }
        }
    }
}
