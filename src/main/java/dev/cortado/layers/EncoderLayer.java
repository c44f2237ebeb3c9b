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
        // temporaries made here go back to the backend once read (be.release): the next layer reuses their memory
        if (preNorm) {
            Tensor n1 = attentionNorm.forward(be, x);
            Tensor a = attention.forward(be, n1, step, bias);
            be.release(n1);
            Tensor n2 = mlpNorm.addForward(be, x, a);
            be.release(a);
            Tensor m = mlp.forward(be, n2);
            be.release(n2);
            be.add(x, m, x);
            be.release(m);
            return x;
        }
        Tensor a = attention.forward(be, x, step, bias);
        attentionNorm.addApply(be, a, x);
        Tensor m = mlp.forward(be, a);
        mlpNorm.addApply(be, m, a);
        be.release(a);
        return m;
    }
}
