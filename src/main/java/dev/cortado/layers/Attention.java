package dev.cortado.layers;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.tensor.Tensor;

/**
 * Multi-head attention with GQA: projections q/k/v/o, optional rotary embedding. Self-attention over the
 * input itself ({@link #forward}) or over a KV cache the caller supplies ({@link #forwardCached}).
 */
public record Attention(Linear q, Linear k, Linear v, Linear o, int heads, int kvHeads, int headDim, float scale,
                        Rotary rotary) {

    /** Bidirectional or causal self-attention without a cache. x: [B, S, D]. */
    public Tensor forward(Backend be, Tensor x, AttentionMask mask, int[] positions, Tensor bias) {
        int seq = (int) x.dim(1);
        Tensor qs = q.forward(be, x), ks = k.forward(be, x), vs = v.forward(be, x);
        if (rotary != null) {
            rotary.apply(be, qs, heads, headDim, positions);
            rotary.apply(be, ks, kvHeads, headDim, positions);
        }
        Tensor ctx = be.allocate(x.dtype(), qs.shape());
        be.attention(qs, heads, headDim, KvView.ofRows(ks, seq, kvHeads, headDim), KvView.ofRows(vs, seq, kvHeads, headDim),
                seq, mask, scale, bias, ctx);
        return o.forward(be, ctx);
    }

    /**
     * Self-attention that appends this step's keys/values to the cache views at {@code start} and attends over
     * [0, start + S). x: [B, S, D].
     */
    public Tensor forwardCached(Backend be, Tensor x, KvView kCache, KvView vCache, int start, AttentionMask mask,
                                int[] positions, Tensor bias) {
        return forwardCached(be, x, kCache, vCache, start, null, mask, positions, bias);
    }

    /**
     * With {@code rowStarts} non-null (one token per row), row r's key/value goes to its own position
     * {@code rowStarts[r]} and attention spans [0, start + 1) with {@code start} the largest of them; the mask's
     * keyValid hides what a row does not own.
     */
    public Tensor forwardCached(Backend be, Tensor x, KvView kCache, KvView vCache, int start, int[] rowStarts,
                                AttentionMask mask, int[] positions, Tensor bias) {
        int seq = (int) x.dim(1);
        Tensor qs = q.forward(be, x), ks = k.forward(be, x), vs = v.forward(be, x);
        if (rotary != null) {
            rotary.apply(be, qs, heads, headDim, positions);
            rotary.apply(be, ks, kvHeads, headDim, positions);
        }
        if (rowStarts == null) {
            be.writeKv(ks, kCache, start);
            be.writeKv(vs, vCache, start);
        } else {
            be.writeKvRows(ks, kCache, rowStarts);
            be.writeKvRows(vs, vCache, rowStarts);
        }
        Tensor ctx = be.allocate(x.dtype(), qs.shape());
        be.attention(qs, heads, headDim, kCache, vCache, start + seq, mask, scale, bias, ctx);
        return o.forward(be, ctx);
    }

    /** Cross-attention: queries from x, keys/values precomputed (once per source) in the given views. */
    public Tensor forwardCross(Backend be, Tensor x, KvView kv, KvView vv, int kvLen, AttentionMask mask, Tensor bias) {
        Tensor qs = q.forward(be, x);
        Tensor ctx = be.allocate(x.dtype(), qs.shape());
        be.attention(qs, heads, headDim, kv, vv, kvLen, mask, scale, bias, ctx);
        return o.forward(be, ctx);
    }

    /** Rotary position embedding parameters. */
    public record Rotary(float[] invFreq, int rotaryDim, boolean interleaved) {
        public void apply(Backend be, Tensor x, int nHeads, int headDim, int[] positions) {
            be.rope(x, nHeads, headDim, rotaryDim, positions, invFreq, interleaved);
        }

        public static Rotary standard(int headDim, double theta) {
            float[] inv = new float[headDim / 2];
            for (int i = 0; i < inv.length; i++) inv[i] = (float) (1.0 / Math.pow(theta, (2.0 * i) / headDim));
            return new Rotary(inv, headDim, false);
        }
    }
}
