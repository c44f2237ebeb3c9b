package dev.cortado.layers;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.tensor.Tensor;

/** One encoder block: self-attention + MLP, each with a residual and a norm placed before (pre) or after (post). */
public record EncoderLayer(Attention attention, Norm attentionNorm, Mlp mlp, Norm mlpNorm, boolean preNorm) {

    public Tensor forward(Backend be, Tensor x, AttentionMask mask, int[] positions, Tensor bias) {
        if (preNorm) {
            Tensor a = attention.forward(be, attentionNorm.forward(be, x), mask, positions, bias);
            be.add(x, a, x);
            Tensor m = mlp.forward(be, mlpNorm.forward(be, x));
            be.add(x, m, x);
            return x;
        }
        Tensor a = attention.forward(be, x, mask, positions, bias);
        be.add(a, x, a);
        attentionNorm.apply(be, a);
        Tensor m = mlp.forward(be, a);
        be.add(m, a, m);
        mlpNorm.apply(be, m);
        return m;
    }
}
