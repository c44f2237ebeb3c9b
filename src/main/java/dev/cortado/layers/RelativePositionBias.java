package dev.cortado.layers;

import dev.cortado.backend.Backend;
import dev.cortado.tensor.Tensor;

/**
 * T5 relative position bias: bucketed (key − query) distances, bidirectional in the encoder, causal in the
 * decoder; only layer 0 owns the table [numBuckets, heads], the bias is shared by all layers. Buckets follow
 * transformers' {@code _relative_position_bucket}, with its float32 log arithmetic.
 */
public record RelativePositionBias(float[] table, int numBuckets, int maxDistance, int heads, boolean bidirectional) {

    static int bucket(int relative, int numBuckets, int maxDistance, boolean bidirectional) {
        int ret = 0, n;
        if (bidirectional) {
            numBuckets /= 2;
            if (relative > 0) ret += numBuckets;
            n = Math.abs(relative);
        } else {
            n = Math.max(-relative, 0);
        }
        int maxExact = numBuckets / 2;
        if (n < maxExact) return ret + n;
        float l = (float) Math.log((float) n / maxExact);
        float denom = (float) Math.log((double) maxDistance / maxExact);
        int large = maxExact + (int) (l / denom * (numBuckets - maxExact));
        return ret + Math.min(large, numBuckets - 1);
    }

    /**
     * Bias [heads, qLen, kLen] for the bound step's queries (positions qOffset..) and keys 0..kLen-1: on the backend
     * when it computes it there (no upload; a CUDA step's key length may be its graph bucket's), else on the host.
     */
    public Tensor compute(Backend be, int qLen, int kLen, int qOffset, dev.cortado.backend.Step step) {
        Tensor t = be.relativePositionBias(table, numBuckets, maxDistance, heads, bidirectional, qLen, step);
        return t != null ? t : compute(be, qLen, kLen, qOffset);
    }

    /** Bias [heads, qLen, kLen] for queries at positions qOffset.. and keys at 0..kLen-1, computed on the host. */
    public Tensor compute(Backend be, int qLen, int kLen, int qOffset) {
        float[] out = new float[heads * qLen * kLen];
        for (int i = 0; i < qLen; i++) {
            for (int j = 0; j < kLen; j++) {
                int b = bucket(j - (qOffset + i), numBuckets, maxDistance, bidirectional);
                for (int h = 0; h < heads; h++) out[(h * qLen + i) * kLen + j] = table[b * heads + h];
            }
        }
        return be.fromHost(out, heads, qLen, kLen);
    }
}
