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

    /**
     * Traced linears reading the same input (q|k|v, gate|up), each {@code outs[i] × in}, concatenated at load into one
     * Linear (output columns in the order given; missing biases are zeros); null when their initializers come in
     * different layouts or a part has no float initializer (a quantized linear): the caller then binds them separately.
     */
    public static Linear fusedLinear(Backend be, java.util.List<LinearOp> ops, String source, long[] outs, long in) {
        java.util.List<dev.cortado.tensor.Tensor> ws = new java.util.ArrayList<>(), bs = new java.util.ArrayList<>();
        long[] got = new long[ops.size()];
        int transposed = 0;
        for (int i = 0; i < ops.size(); i++) {
            Const w = ops.get(i).weight();
            if (w == null) return null;
            boolean t = w.transposed();
            if (t) transposed++;
            dev.cortado.tensor.Tensor x = t ? TensorCheck.shape(source, w.name(), w.tensor(), outs[i], in)
                    : TensorCheck.shape(source, w.name(), w.tensor(), in, outs[i]);
            got[i] = t ? x.dim(0) : x.dim(1);
            ws.add(x);
            Const b = ops.get(i).bias();
            bs.add(b == null ? null : TensorCheck.vector(source, b.name(), b.tensor(), got[i]));
        }
        if (transposed != 0 && transposed != ops.size()) return null;
        dev.cortado.tensor.Tensor w = transposed == 0 ? be.linearWeight(Fusion.concatColumns(ws)) : be.weightTransposed(Fusion.concatRows(ws));
        dev.cortado.tensor.Tensor bias = Fusion.concatBiases(bs, got);
        return new Linear(w, bias == null ? null : be.weight(bias));
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
