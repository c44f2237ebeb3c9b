package dev.cortado.layers;

import dev.cortado.backend.Backend;
import dev.cortado.tensor.Tensor;

/** y = x · W + b with W stored [in, out] on the backend; bias may be null. */
public record Linear(Tensor weight, Tensor bias) {
    public int in() {
        return (int) weight.dim(0);
    }

    public int out() {
        return (int) weight.dim(1);
    }

    /** x [..., in] → new tensor [..., out]. */
    public Tensor forward(Backend be, Tensor x) {
        return forward(be, x, null);
    }

    /** x [..., in] → new tensor act(x · W + b) (act may be null; the backend may fuse it into the GEMM). */
    public Tensor forward(Backend be, Tensor x, Backend.Activation act) {
        long[] shape = x.shape();
        shape[shape.length - 1] = out();
        Tensor y = be.allocateOutput(x.dtype(), shape); // every element written by the GEMM
        be.linear(x, weight, bias, act, y);
        return y;
    }
}
