package dev.cortado.layers;

import dev.cortado.backend.Backend;
import dev.cortado.backend.Backend.Activation;
import dev.cortado.tensor.Tensor;

/** Feed-forward block: down(act(up(x))) or, gated (SwiGLU / gated-GELU), down(act(gate(x)) · up(x)). */
public record Mlp(Linear up, Linear gate, Linear down, Activation activation) {
    public Tensor forward(Backend be, Tensor x) {
        Tensor u = up.forward(be, x);
        if (gate == null) {
            be.activate(u, activation);
            return down.forward(be, u);
        }
        Tensor g = gate.forward(be, x);
        be.gatedActivate(g, u, activation);
        return down.forward(be, g);
    }
}
