package dev.cortado.backend;

import dev.cortado.tensor.Tensor;

/**
 * A strided (optionally paged) view of keys or values. Contiguous: element (b, h, p, d) is at
 * {@code batchStride·b + headStride·h + posStride·p + d}. Paged (vLLM style): position p of row b lives in block
 * {@code blocks[b][p / blockSize]} of a pool [numBlocks, blockSize, heads, headDim] (vLLM's flash layout, the one
 * the CUDA kernels read: within a block, position-major, so a projection row [H·D] is one contiguous run). Attention reads a projection
 * output [B, S, H·D], a contiguous cache and a paged cache alike.
 */
public record KvView(Tensor data, int heads, int headDim, long batchStride, long headStride, long posStride,
                     int[][] blocks, int blockSize) {

    public KvView(Tensor data, int heads, int headDim, long batchStride, long headStride, long posStride) {
        this(data, heads, headDim, batchStride, headStride, posStride, null, 0);
    }

    /** A projection output [B, S, H·D]. */
    public static KvView ofRows(Tensor t, int seq, int heads, int headDim) {
        return new KvView(t, heads, headDim, (long) seq * heads * headDim, headDim, (long) heads * headDim);
    }

    /** A contiguous cache [B, H, maxSeq, D]. */
    public static KvView ofCache(Tensor t, int heads, int maxSeq, int headDim) {
        return new KvView(t, heads, headDim, (long) heads * maxSeq * headDim, (long) maxSeq * headDim, headDim);
    }

    /** A paged cache: pool [numBlocks, blockSize, H, D] addressed through per-row block tables. */
    public static KvView paged(Tensor pool, int heads, int blockSize, int headDim, int[][] blocks) {
        return new KvView(pool, heads, headDim, 0, headDim, (long) heads * headDim, blocks, blockSize);
    }

    public boolean isPaged() {
        return blocks != null;
    }

    /**
     * True when element (b, h, p, d) sits at {@code ((b·S + p)·H + h)·D + d} for some S (or in a paged pool
     * [blocks, blockSize, H, D]): the layout of the CUDA attention kernels.
     */
    public boolean isPositionMajor() {
        return headStride == headDim && posStride == (long) heads * headDim
                && (blocks != null || batchStride % posStride == 0);
    }

    public long offset(int b, int h, int p) {
        if (blocks == null) return batchStride * b + headStride * h + posStride * p;
        int bs = blockSize, blk, at;
        if ((bs & (bs - 1)) == 0) { // a power of two (the usual): shift and mask instead of an integer division per position
            blk = p >>> Integer.numberOfTrailingZeros(bs);
            at = p & (bs - 1);
        } else {
            blk = p / bs;
            at = p % bs;
        }
        long block = blocks[b][blk];
        return block * heads * bs * headDim + headStride * h + posStride * at;
    }
}
