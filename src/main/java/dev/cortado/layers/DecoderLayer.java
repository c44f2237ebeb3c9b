package dev.cortado.layers;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.backend.Step;
import dev.cortado.tensor.Tensor;

/**
 * One decoder block: cached self-attention, optional cross-attention (seq2seq), MLP; each sub-block with a
 * residual and a norm before (pre-norm: GPT-2, Llama, T5) or after (post-norm: BART, Marian). The residual add lives
 * in the norm that follows it ({@link Norm#addForward}, {@link Norm#addApply}): in a pre-norm stack the MLP's output
 * is handed on as {@link Residual#pending} and added by the next layer's first norm.
 */
public record DecoderLayer(Attention selfAttention, Norm selfNorm, Attention crossAttention, Norm crossNorm,
                           Mlp mlp, Norm mlpNorm, boolean preNorm) {

    /** Cross-attention inputs of one source batch: K/V views computed once per source. */
    public record Cross(KvView k, KvView v, int length, AttentionMask mask, Tensor bias) {}

    /** The residual stream x and a block output not yet added to it (null: none). */
    public record Residual(Tensor x, Tensor pending) {
        /** x with the pending output added. */
        public Tensor settle(Backend be) {
            if (pending != null) be.add(x, pending, x);
            return x;
        }
    }

    /**
     * Positions, cache positions, lengths and masks come from the step ({@link TransformerDecoder#step}). Every
     * temporary of the block (norm outputs, attention outputs, the previous block's pending output, a post-norm
     * block's old residual) goes back to the backend once read ({@link Backend#release}): a decode step then runs on
     * the same few arrays every step instead of allocating each op's output.
     */
    public Residual forward(Backend be, Residual in, KvView kCache, KvView vCache, Step step, Tensor selfBias, Cross cross) {
        boolean crossing = crossAttention != null && cross != null;
        if (!preNorm) {
            Tensor x = in.settle(be);
            be.release(in.pending());
            Tensor y = selfAttention.forwardCached(be, x, kCache, vCache, step, selfBias);
            selfNorm.addApply(be, y, x);
            be.release(x);
            x = y;
            if (crossing) {
                y = crossAttention.forwardCross(be, x, cross.k(), cross.v(), step, cross.bias());
                crossNorm.addApply(be, y, x);
                be.release(x);
                x = y;
            }
            y = mlp.forward(be, x);
            mlpNorm.addApply(be, y, x);
            be.release(x);
            return new Residual(y, null);
        }
        Tensor x = in.x();
        Tensor h = in.pending() == null ? selfNorm.forward(be, x) : selfNorm.addForward(be, x, in.pending());
        be.release(in.pending());
        Tensor y = selfAttention.forwardCached(be, h, kCache, vCache, step, selfBias);
        be.release(h);
        if (crossing) {
            h = crossNorm.addForward(be, x, y);
            be.release(y);
            y = crossAttention.forwardCross(be, h, cross.k(), cross.v(), step, cross.bias());
            be.release(h);
        }
        h = mlpNorm.addForward(be, x, y);
        be.release(y);
        Tensor out = mlp.forward(be, h);
        be.release(h);
        return new Residual(x, out);
    }
}
