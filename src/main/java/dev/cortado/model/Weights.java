package dev.cortado.model;

import dev.cortado.backend.Backend;
import dev.cortado.layers.Linear;
import dev.cortado.layers.Norm;
import dev.cortado.model.GraphTracer.Const;
import dev.cortado.model.GraphTracer.LinearOp;
import dev.cortado.model.GraphTracer.NormOp;

/** Binds traced constants to backend weights (converted or uploaded once). */
public final class Weights {
    private Weights() {}

    public static Linear linear(Backend be, LinearOp op) {
        Const w = op.weight();
        return new Linear(w.transposed() ? be.weightTransposed(w.tensor()) : be.linearWeight(w.tensor()),
                op.bias() == null ? null : be.weight(op.bias().tensor().reshape(op.bias().tensor().numel())));
    }

    public static Norm norm(Backend be, NormOp op) {
        return new Norm(op.rms() ? Norm.Kind.RMS : Norm.Kind.LAYER, be.weight(op.gamma().tensor()),
                op.beta() == null ? null : be.weight(op.beta().tensor()), op.eps());
    }
}
