package dev.cortado.backend;

import dev.cortado.tensor.Tensor;

/**
 * A strided view of keys or values: element (b, h, p, d) is at
 * {@code batchStride·b + headStride·h + posStride·p + d} (in elements). Lets attention read a projection output
 * [B, S, H·D] directly and a cache [B, H, S_max, D] alike.
 */
public record KvView(Tensor data, int heads, int headDim, long batchStride, long headStride, long posStride) {

    /** A projection output [B, S, H·D]. */
    public static KvView ofRows(Tensor t, int seq, int heads, int headDim) {
        return new KvView(t, heads, headDim, (long) seq * heads * headDim, headDim, (long) heads * headDim);
    }

    /** A cache [B, H, maxSeq, D]. */
    public static KvView ofCache(Tensor t, int heads, int maxSeq, int headDim) {
        return new KvView(t, heads, headDim, (long) heads * maxSeq * headDim, (long) maxSeq * headDim, headDim);
    }

    public long offset(int b, int h, int p) {
        return batchStride * b + headStride * h + posStride * p;
    }
}
