package dev.cortado.backend.cuda;

/**
 * Where a layer's keys and values live on the device, in the layout every attention kernel reads (vLLM's flash
 * layout): {@code kCache, vCache: [numBlocks, blockSize, nKvHeads, headDim]}. {@code blockTable} (int32
 * [batch, maxBlocks], or 0) maps sequence b's logical block j to a physical block; with 0, sequence b owns blocks
 * {@code b * maxBlocks .. b * maxBlocks + maxBlocks - 1}, so a plain contiguous {@code [batch, maxSeq, nKvHeads,
 * headDim]} tensor is {@code contiguous(k, v, maxSeq, nKvHeads, headDim)}. Token t of sequence b is in slot
 * {@code phys(b, t / blockSize) * blockSize + t % blockSize}.
 */
public record KvCacheView(long kCache, long vCache, long blockTable, int blockSize, int maxBlocks, int nKvHeads,
                          int headDim) {
    public KvCacheView {
        if (blockSize <= 0 || maxBlocks <= 0 || nKvHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("KV cache view needs positive sizes: blockSize " + blockSize
                    + ", maxBlocks " + maxBlocks + ", nKvHeads " + nKvHeads + ", headDim " + headDim);
        }
    }

    /** A contiguous [batch, maxSeq, nKvHeads, headDim] cache (no block table). */
    public static KvCacheView contiguous(long kCache, long vCache, int maxSeq, int nKvHeads, int headDim) {
        return new KvCacheView(kCache, vCache, 0L, maxSeq, 1, nKvHeads, headDim);
    }

    /** Longest sequence the view can hold. */
    public long capacity() { return (long) blockSize * maxBlocks; }
}
