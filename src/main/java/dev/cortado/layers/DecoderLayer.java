package dev.cortado.layers;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.tensor.Tensor;

/**
 * One decoder block: cached self-attention, optional cross-attention (seq2seq), MLP; each sub-block with a
 * residual and a norm before (pre-norm: GPT-2, Llama, T5) or after (post-norm: BART, Marian).
 */
public record DecoderLayer(Attention selfAttention, Norm selfNorm, Attention crossAttention, Norm crossNorm,
                           Mlp mlp, Norm mlpNorm, boolean preNorm) {

    /** Cross-attention inputs of one source batch: K/V views computed once per source. */
    public record Cross(KvView k, KvView v, int length, AttentionMask mask, Tensor bias) {}

    public Tensor forward(Backend be, Tensor x, KvView kCache, KvView vCache, int start, AttentionMask mask,
                          int[] positions, Tensor selfBias, Cross cross) {
        return forward(be, x, kCache, vCache, start, null, mask, positions, selfBias, cross);
    }

    /** {@code rowStarts}: see {@link TransformerDecoder#step}. */
    public Tensor forward(Backend be, Tensor x, KvView kCache, KvView vCache, int start, int[] rowStarts,
                          AttentionMask mask, int[] positions, Tensor selfBias, Cross cross) {
        x = block(be, x, selfNorm, h -> selfAttention.forwardCached(be, h, kCache, vCache, start, rowStarts, mask,
                positions, selfBias));
        if (crossAttention != null && cross != null) {
            x = block(be, x, crossNorm, h -> crossAttention.forwardCross(be, h, cross.k(), cross.v(), cross.length(), cross.mask(), cross.bias()));
        }
        return block(be, x, mlpNorm, h -> mlp.forward(be, h));
    }

    private Tensor block(Backend be, Tensor x, Norm norm, java.util.function.UnaryOperator<Tensor> f) {
        if (preNorm) {
            Tensor y = f.apply(norm.forward(be, x));
            be.add(x, y, x);
            return x;
        }
        Tensor y = f.apply(x);
        be.add(y, x, y);
        norm.apply(be, y);
        return y;
    }
}
