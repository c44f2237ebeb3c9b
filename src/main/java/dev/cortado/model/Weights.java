package dev.cortado.model;

import dev.cortado.backend.Backend;
import dev.cortado.layers.Linear;
import dev.cortado.layers.Norm;
import dev.cortado.model.GraphTracer.Const;
import dev.cortado.model.GraphTracer.LinearOp;
import dev.cortado.model.GraphTracer.NormOp;

/** Binds traced constants to backend weights (converted or uploaded once), checked against the family's dims. */
public final class Weights {
    private Weights() {}

    /** A traced linear of {@code out × in} ({@code -1}: any); its initializer's dtype, rank and shape are checked. */
    public static Linear linear(Backend be, LinearOp op, String source, long out, long in) {
        Const w = op.weight();
        Linear l = new Linear(w.transposed() ? be.weightTransposed(TensorCheck.shape(source, w.name(), w.tensor(), out, in))
                : be.linearWeight(TensorCheck.shape(source, w.name(), w.tensor(), in, out)), null);
        if (op.bias() == null) return l;
        return new Linear(l.weight(), be.weight(TensorCheck.vector(source, op.bias().name(), op.bias().tensor(), l.out())));
    }

    /** A traced norm over {@code n} features. */
    public static Norm norm(Backend be, NormOp op, String source, long n) {
        if (!(op.eps() >= 0) || Float.isInfinite(op.eps())) {
            throw new dev.cortado.CortadoException(source + ": norm '" + op.gamma().name() + "' has epsilon " + op.eps() + ", expected a finite number ≥ 0");
        }
        return new Norm(op.rms() ? Norm.Kind.RMS : Norm.Kind.LAYER, be.weight(TensorCheck.vector(source, op.gamma().name(), op.gamma().tensor(), n)),
                op.beta() == null ? null : be.weight(TensorCheck.vector(source, op.beta().name(), op.beta().tensor(), n)), op.eps());
    }
}
