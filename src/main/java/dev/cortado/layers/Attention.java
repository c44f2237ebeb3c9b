package dev.cortado.layers;

import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.backend.Step;
import dev.cortado.tensor.Tensor;

/**
 * Multi-head attention with GQA: projections q/k/v/o, optional rotary embedding. Positions, cache positions,
 * lengths and masks come from the bound {@link Step} (built once per step). Self-attention over the input itself
 * ({@link #forward}), over a KV cache ({@link #forwardCached}), or cross-attention ({@link #forwardCross}).
 * Self-attention bound from concatenated weights has one {@code qkv} projection [in, (heads + 2·kvHeads)·headDim]
 * (q, k, v columns in that order; q, k and v are then null): one GEMM, rotary on q and k in one op, keys and values
 * written to the cache straight from its columns.
 */
public record Attention(Linear q, Linear k, Linear v, Linear o, int heads, int kvHeads, int headDim, float scale,
                        Rotary rotary, Linear qkv, Linear kv) {

    public Attention(Linear q, Linear k, Linear v, Linear o, int heads, int kvHeads, int headDim, float scale, Rotary rotary) {
        this(q, k, v, o, heads, kvHeads, headDim, scale, rotary, null, null);
    }

    public Attention(Linear q, Linear k, Linear v, Linear o, int heads, int kvHeads, int headDim, float scale, Rotary rotary,
                     Linear qkv) {
        this(q, k, v, o, heads, kvHeads, headDim, scale, rotary, qkv, null);
    }

    /**
     * Cross-attention with keys and values from one fused k|v projection [in, 2·kvHeads·headDim] (k columns, then v),
     * concatenated at load: the encoder output is read by one GEMM per layer ({@link #crossKv}); k and v are then null.
     */
    public static Attention crossFused(Linear q, Linear kv, Linear o, int heads, int kvHeads, int headDim, float scale) {
        if (kv.out() != 2 * kvHeads * headDim) {
            throw new IllegalArgumentException("fused k|v projection has " + kv.out() + " outputs, expected " + 2 * kvHeads * headDim);
        }
        return new Attention(q, null, null, o, heads, kvHeads, headDim, scale, null, null, kv);
    }

    /**
     * Cross-attention keys and values of an encoder output [B, S, D]: {k, v}, each [B, S, kvHeads·headDim]. With a
     * fused k|v projection: one GEMM, then its two column halves split on the backend.
     */
    public Tensor[] crossKv(Backend be, Tensor encoded) {
        if (kv == null) return new Tensor[] {k.forward(be, encoded), v.forward(be, encoded)};
        return be.splitColumns(kv.forward(be, encoded), kvHeads * headDim);
    }

    /** Self-attention with one fused q|k|v projection. */
    public static Attention fused(Linear qkv, Linear o, int heads, int kvHeads, int headDim, float scale, Rotary rotary) {
        if (qkv.out() != (heads + 2 * kvHeads) * headDim) {
            throw new IllegalArgumentException("fused qkv projection has " + qkv.out() + " outputs, expected " + (heads + 2 * kvHeads) * headDim);
        }
        return new Attention(null, null, null, o, heads, kvHeads, headDim, scale, rotary, qkv, null);
    }

    /** The fused projection with rotary applied: [B, S, (heads + 2·kvHeads)·headDim]. */
    private Tensor fusedProjection(Backend be, Tensor x, Step step) {
        Tensor t = qkv.forward(be, x);
        if (rotary != null) rotary.apply(be, t, heads, kvHeads, headDim, step);
        return t;
    }

    private Tensor context(Backend be, Tensor x) {
        return be.allocateOutput(x.dtype(), x.dim(0), x.dim(1), (long) heads * headDim); // every row written
    }

    /** The output projection of the context, which is released (a temporary) afterwards. */
    private Tensor project(Backend be, Tensor ctx) {
        Tensor y = o.forward(be, ctx);
        be.release(ctx);
        return y;
    }

    /** Bidirectional or causal self-attention without a cache (an encoder). x: [B, S, D]. */
    public Tensor forward(Backend be, Tensor x, Step step, Tensor bias) {
        int seq = (int) x.dim(1);
        if (qkv != null) {
            // keys and values read from the projection's columns (the CPU reads them in place; see Backend.selfAttention)
            Tensor t = fusedProjection(be, x, step);
            Tensor ctx = context(be, x);
            be.selfAttention(t, heads, kvHeads, headDim, step, scale, bias, ctx);
            be.release(t);
            return project(be, ctx);
        }
        Tensor qs = q.forward(be, x), ks = k.forward(be, x), vs = v.forward(be, x);
        if (rotary != null) {
            rotary.apply(be, qs, heads, headDim, step);
            rotary.apply(be, ks, kvHeads, headDim, step);
        }
        Tensor ctx = be.allocateOutput(x.dtype(), qs.shape());
        be.attention(qs, heads, headDim, KvView.ofRows(ks, seq, kvHeads, headDim), KvView.ofRows(vs, seq, kvHeads, headDim),
                step, false, scale, bias, ctx);
        be.release(qs);
        be.release(ks);
        be.release(vs);
        return project(be, ctx);
    }

    /**
     * Self-attention that appends this step's keys/values to the cache views (at the step's positions) and attends
     * over the step's key length. x: [B, S, D].
     */
    public Tensor forwardCached(Backend be, Tensor x, KvView kCache, KvView vCache, Step step, Tensor bias) {
        if (qkv != null) {
            Tensor t = fusedProjection(be, x, step);
            int qw = heads * headDim, kw = kvHeads * headDim;
            be.writeKv(t, qw, t, qw + kw, kCache, vCache, step);
            Tensor ctx = context(be, x);
            be.attention(t, heads, headDim, kCache, vCache, step, false, scale, bias, ctx);
            be.release(t);
            return project(be, ctx);
        }
        Tensor qs = q.forward(be, x), ks = k.forward(be, x), vs = v.forward(be, x);
        if (rotary != null) {
            rotary.apply(be, qs, heads, headDim, step);
            rotary.apply(be, ks, kvHeads, headDim, step);
        }
        be.writeKv(ks, 0, vs, 0, kCache, vCache, step);   // copied into the cache: ks and vs are temporaries
        be.release(ks);
        be.release(vs);
        Tensor ctx = be.allocate(x.dtype(), qs.shape());
        be.attention(qs, heads, headDim, kCache, vCache, step, false, scale, bias, ctx);
        be.release(qs);
        return project(be, ctx);
    }

    /** Cross-attention: queries from x, keys/values precomputed (once per source) in the given views. */
    public Tensor forwardCross(Backend be, Tensor x, KvView kv, KvView vv, Step step, Tensor bias) {
        Tensor qs = q.forward(be, x);
        Tensor ctx = be.allocate(x.dtype(), qs.shape());
        be.attention(qs, heads, headDim, kv, vv, step, true, scale, bias, ctx);
        be.release(qs);
        return project(be, ctx);
    }

    /** Rotary position embedding parameters. */
    public record Rotary(float[] invFreq, int rotaryDim, boolean interleaved) {
        /** Rotates {@code nHeads} heads at the start of each row of x (plus {@code kvHeads} after them). */
        public void apply(Backend be, Tensor x, int nHeads, int kvHeads, int headDim, Step step) {
            be.rope(x, nHeads, kvHeads, headDim, rotaryDim, step, invFreq, interleaved);
        }

        public void apply(Backend be, Tensor x, int nHeads, int headDim, Step step) {
            apply(be, x, nHeads, 0, headDim, step);
        }

        public static Rotary standard(int headDim, double theta) {
            float[] inv = new float[headDim / 2];
            for (int i = 0; i < inv.length; i++) inv[i] = (float) (1.0 / Math.pow(theta, (2.0 * i) / headDim));
            return new Rotary(inv, headDim, false);
        }
    }
}
