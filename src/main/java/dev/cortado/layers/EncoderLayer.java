package dev.cortado.layers;

import dev.cortado.backend.Backend;
import dev.cortado.backend.Step;
import dev.cortado.tensor.Tensor;

/**
 * One encoder block: self-attention + MLP, each with a residual and a norm placed before (pre) or after (post); the
 * residual add lives in the norm that follows it.
 */
public record EncoderLayer(Attention attention, Norm attentionNorm, Mlp mlp, Norm mlpNorm, boolean preNorm) {

    public Tensor forward(Backend be, Tensor x, Step step, Tensor bias) {
        if (preNorm) {
            Tensor a = attention.forward(be, attentionNorm.forward(be, x), step, bias);
            Tensor m = mlp.forward(be, mlpNorm.addForward(be, x, a));
            be.add(x, m, x);
            return x;
        }
        Tensor a = attention.forward(be, x, step, bias);
        attentionNorm.addApply(be, a, x);
        Tensor m = mlp.forward(be, a);
        mlpNorm.addApply(be, m, a);
        return m;
    }
}
