package dev.cortado.backend;

/**
 * Which keys a query may see. {@code keyValid[b][j]} false hides key j of sequence b (padding); when
 * {@code causal}, query i (absolute position {@code queryOffset + i}) sees keys j ≤ queryOffset + i.
 * A query that sees no key at all outputs zeros.
 */
public record AttentionMask(boolean[][] keyValid, boolean causal, int queryOffset) {
    public static AttentionMask causal(int queryOffset) {
        return new AttentionMask(null, true, queryOffset);
    }
}
