package dev.cortado.layers;

import dev.cortado.backend.Backend;
import dev.cortado.backend.Backend.Activation;
import dev.cortado.tensor.Tensor;

/**
 * Feed-forward block: down(act(up(x))) or, gated (SwiGLU / gated-GELU), down(act(gate(x)) · up(x)). A gated block
 * bound from concatenated weights has one {@code gateUp} projection [in, 2·I] (gate columns first): one GEMM.
 */
public record Mlp(Linear up, Linear gate, Linear down, Activation activation, Linear gateUp) {

    public Mlp(Linear up, Linear gate, Linear down, Activation activation) {
        this(up, gate, down, activation, null);
    }

    /** A gated block with one fused gate|up projection. */
    public static Mlp fused(Linear gateUp, Linear down, Activation activation) {
        return new Mlp(null, null, down, activation, gateUp);
    }

    public Tensor forward(Backend be, Tensor x) {
        if (gateUp != null) {
            Tensor t = gateUp.forward(be, x);
            long[] shape = t.shape();
            shape[shape.length - 1] = gateUp.out() / 2;
            Tensor h = be.allocate(x.dtype(), shape);
            be.gatedActivate(t, activation, h);
            be.release(t);
            return downReleasing(be, h);
        }
        if (gate == null) return downReleasing(be, up.forward(be, x, activation)); // activation in the GEMM epilogue
        Tensor u = up.forward(be, x);
        Tensor g = gate.forward(be, x);
        be.gatedActivate(g, u, activation);
        be.release(u);
        return downReleasing(be, g);
    }

    /** down(h), then h (a temporary of this block) goes back to the backend. */
    private Tensor downReleasing(Backend be, Tensor h) {
        Tensor y = down.forward(be, h);
        be.release(h);
        return y;
    }
}
