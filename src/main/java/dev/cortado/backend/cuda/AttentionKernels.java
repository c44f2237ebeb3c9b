package dev.cortado.backend.cuda;

import static dev.cortado.backend.cuda.KernelLauncher.args;
import static dev.cortado.backend.cuda.KernelLauncher.pow2ceil;
import static dev.cortado.backend.cuda.KernelLauncher.suffix;
import static dev.cortado.backend.cuda.KernelLauncher.vec;

import dev.cortado.tensor.DType;

/**
 * Attention launchers (kernels/attention_decode.cu, attention_prefill.cu): decode over the KV cache with
 * flash-decoding (split over the sequence + a reduction kernel), prefill / encoder attention, and the T5 relative
 * position bias. GQA through {@code nHeads / kv.nKvHeads()}; {@code scale} multiplies q.k (1 for T5,
 * 1 / sqrt(headDim) usually).
 */
public final class AttentionKernels {
    /** Keys per decode partition (one block each); fixed so the grid depends only on the maximum length. */
    public static final int DECODE_PARTITION = 512;
    /** Largest head dimension the kernels take. */
    public static final int MAX_HEAD_DIM = 256;

    private final KernelLauncher launcher;

    AttentionKernels(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    /** Partitions a decode over at most {@code maxSeqLen} keys uses. */
    public static int decodePartitions(int maxSeqLen) {
        return Math.max(1, Math.ceilDiv(maxSeqLen, DECODE_PARTITION));
    }

    /** Device scratch (bytes) {@link #decode} needs; 0 when one partition covers {@code maxSeqLen}. */
    public static long decodeWorkspaceBytes(int batch, int nHeads, int headDim, int maxSeqLen) {
        int p = decodePartitions(maxSeqLen);
        if (p == 1) return 0;
        return 4L * batch * nHeads * p * (headDim + 2L);
    }

    private static void checkShapes(DType t, KvCacheView kv, int nHeads, long qStride) {
        int d = kv.headDim();
        if (d % vec(t) != 0 || d > MAX_HEAD_DIM) {
            throw new CudaException("attention kernels need head_dim <= " + MAX_HEAD_DIM + " and a multiple of "
                    + vec(t) + " for " + t + "; got " + d);
        }
        if (nHeads % kv.nKvHeads() != 0) {
            throw new CudaException("attention heads " + nHeads + " are not a multiple of kv heads " + kv.nKvHeads());
        }
        if (qStride % vec(t) != 0) {
            throw new CudaException("query row stride " + qStride + " must be a multiple of " + vec(t) + " for " + t);
        }
    }

    /**
     * One query token per sequence against its cached keys.
     *
     * @param out [batch, nHeads, headDim]
     * @param q head h of sequence b at q + (b * qStride + h * headDim) elements (after RoPE)
     * @param seqLens int32 [batch]: keys 0 .. seqLens[b] - 1 are attended (the new token's k / v already written)
     * @param maxSeqLen upper bound of seqLens for the life of a captured graph; sizes the grid and the workspace
     * @param workspace {@link #decodeWorkspaceBytes} bytes of device scratch (0 if that is 0)
     */
    public void decode(DType t, long out, long q, long qStride, KvCacheView kv, long seqLens, int batch, int nHeads,
                       int maxSeqLen, float scale, AttentionMask mask, long workspace, CudaStream s) {
        checkShapes(t, kv, nHeads, qStride);
        if (maxSeqLen > kv.capacity()) {
            throw new CudaException("decode over " + maxSeqLen + " keys but the KV cache view holds " + kv.capacity());
        }
        int d = kv.headDim();
        int p = decodePartitions(maxSeqLen);
        long partOut = 0, partMl = 0;
        if (p > 1) {
            if (workspace == 0) throw new CudaException("decode attention over " + maxSeqLen + " keys needs a workspace");
            partOut = workspace;
            partMl = workspace + 4L * batch * nHeads * p * d;
        }
        int g = Math.min(32, pow2ceil(d / vec(t)));
        int shared = 4 * (DECODE_PARTITION + (128 / g) * d);
        AttentionMask m = mask == null ? AttentionMask.NONE : mask;
        String sfx = suffix(t);
        launcher.launch("attn_decode_" + sfx, p, nHeads, batch, 128, shared, s, args().ptr(out).ptr(partOut)
                .ptr(partMl).ptr(q).ptr(kv.kCache()).ptr(kv.vCache()).ptr(kv.blockTable()).ptr(seqLens)
                .ptr(m.keyMask()).ptr(m.bias()).i32(nHeads).i32(kv.nKvHeads()).i32(d).i32(kv.blockSize())
                .i32(kv.maxBlocks()).i32(DECODE_PARTITION).i64(qStride).i64(m.maskStride())
                .i64(m.biasBatchStride()).i64(m.biasHeadStride()).f32(scale));
        if (p > 1) {
            launcher.launch("attn_decode_reduce_" + sfx, nHeads, batch, 1, 128, 4 * p, s, args().ptr(out)
                    .ptr(partOut).ptr(partMl).ptr(seqLens).i32(nHeads).i32(d).i32(p).i32(DECODE_PARTITION));
        }
    }

    /** Dynamic shared memory of {@link #prefill} for a head dimension. */
    public static int prefillSharedBytes(int headDim) {
        return 4 * (32 * (headDim + 1) + 32 * headDim + 8 * headDim);
    }

    /**
     * Many query tokens per sequence (prompt prefill, encoder self-attention, cross-attention).
     *
     * @param out [batch, lq, nHeads, headDim]
     * @param q query i of sequence b, head h at q + ((b * lq + i) * qStride + h * headDim) elements
     * @param kvLens int32 [batch]: keys per sequence
     * @param qLens int32 [batch] valid queries per sequence (0: lq); they are the newest tokens, so query i sits at
     *     position kvLens[b] - qLens[b] + i; rows past qLens[b] are zeros
     * @param causal mask keys after the query position
     */
    public void prefill(DType t, long out, long q, long qStride, int lq, KvCacheView kv, long kvLens, long qLens,
                        int batch, int nHeads, float scale, boolean causal, AttentionMask mask, CudaStream s) {
        checkShapes(t, kv, nHeads, qStride);
        AttentionMask m = mask == null ? AttentionMask.NONE : mask;
        launcher.launch("attn_prefill_" + suffix(t), Math.ceilDiv(lq, 8), nHeads, batch, 256,
                prefillSharedBytes(kv.headDim()), s, args().ptr(out).ptr(q).ptr(kv.kCache()).ptr(kv.vCache())
                        .ptr(kv.blockTable()).ptr(kvLens).ptr(qLens).ptr(m.keyMask()).ptr(m.bias()).i32(lq)
                        .i32(nHeads).i32(kv.nKvHeads()).i32(kv.headDim()).i32(kv.blockSize()).i32(kv.maxBlocks())
                        .i64(qStride).i64(m.maskStride()).i64(m.biasBatchStride()).i64(m.biasHeadStride())
                        .i64(m.biasQueryStride()).f32(scale).i32(causal ? 1 : 0));
    }

    /**
     * T5 relative position bias: outF32[b, h, i, j] = table[bucket(j - (qOffsets[b] + i)), h].
     *
     * @param table [numBuckets, nHeads] in the storage type (relative_attention_bias.weight)
     * @param qOffsets int32 [batch] position of query 0 (0: all zero)
     * @param bidirectional true for the encoder, false for decoder self-attention
     */
    public void t5Bias(DType t, long outF32, long table, long qOffsets, int batch, int nHeads, int lq, int lk,
                       boolean bidirectional, int numBuckets, int maxDistance, CudaStream s) {
        long n = (long) batch * nHeads * lq * lk;
        launcher.launch("t5_bias_" + suffix(t), launcher.gridFor(n), 1, 1, 256, 0, s, args().ptr(outF32).ptr(table)
                .ptr(qOffsets).i32(batch).i32(nHeads).i32(lq).i32(lk).i32(bidirectional ? 1 : 0).i32(numBuckets)
                .i32(maxDistance));
    }
}
