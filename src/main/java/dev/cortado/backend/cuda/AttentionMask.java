package dev.cortado.backend.cuda;

/**
 * Optional masking and additive bias for the attention kernels (all addresses may be 0 = absent).
 *
 * @param keyMask uint8 [batch, maskStride]: 0 masks key j of sequence b (padding); 1 attends
 * @param bias f32, added to the score of (b, h, query i, key j) at {@code b * biasBatchStride + h * biasHeadStride +
 *     i * biasQueryStride + j} (T5 relative position bias, ALiBi); stride 0 broadcasts
 */
public record AttentionMask(long keyMask, long maskStride, long bias, long biasBatchStride, long biasHeadStride,
                            long biasQueryStride) {
    public static final AttentionMask NONE = new AttentionMask(0, 0, 0, 0, 0, 0);

    public static AttentionMask keys(long keyMask, long maskStride) {
        return new AttentionMask(keyMask, maskStride, 0, 0, 0, 0);
    }

    public AttentionMask withBias(long bias, long batchStride, long headStride, long queryStride) {
        return new AttentionMask(keyMask, maskStride, bias, batchStride, headStride, queryStride);
    }
}
