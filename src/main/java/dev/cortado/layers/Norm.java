package dev.cortado.layers;

import dev.cortado.backend.Backend;
import dev.cortado.tensor.Tensor;

/** LayerNorm (with optional bias) or RMSNorm (Llama/T5) over the last dimension. */
public record Norm(Kind kind, Tensor gamma, Tensor beta, float eps) {
    public enum Kind { LAYER, RMS }

    /** In place. */
    public void apply(Backend be, Tensor x) {
        if (kind == Kind.LAYER) be.layerNorm(x, gamma, beta, eps, x);
        else be.rmsNorm(x, gamma, eps, x);
    }

    /** Into a new tensor. */
    public Tensor forward(Backend be, Tensor x) {
        Tensor y = be.allocateOutput(x.dtype(), x.shape());
        if (kind == Kind.LAYER) be.layerNorm(x, gamma, beta, eps, y);
        else be.rmsNorm(x, gamma, eps, y);
        return y;
    }

    /** residual += x, then a new tensor norm(residual): the residual add inside the norm (pre-norm blocks). */
    public Tensor addForward(Backend be, Tensor residual, Tensor x) {
        Tensor y = be.allocateOutput(residual.dtype(), residual.shape());
        if (kind == Kind.LAYER) be.addLayerNorm(residual, x, gamma, beta, eps, y);
        else be.addRmsNorm(residual, x, gamma, eps, y);
        return y;
    }

    /** residual = norm(residual + x) in place (post-norm blocks). */
    public void addApply(Backend be, Tensor residual, Tensor x) {
        if (kind == Kind.LAYER) be.addLayerNorm(residual, x, gamma, beta, eps, residual);
        else be.addRmsNorm(residual, x, gamma, eps, residual);
    }
}
