package dev.cortado.model;

import dev.cortado.backend.Backend;
import dev.cortado.layers.Linear;
import dev.cortado.layers.Norm;
import dev.cortado.model.GraphTracer.Const;
import dev.cortado.model.GraphTracer.LinearOp;
import dev.cortado.model.GraphTracer.NormOp;
import dev.cortado.tensor.Tensor;

/** Binds traced constants to backend weights (converted or uploaded once), checked against the family's dims. */
public final class Weights {
    private Weights() {}

    /** A traced linear of {@code out × in} ({@code -1}: any); its initializer's dtype, rank and shape are checked. */
    public static Linear linear(Backend be, LinearOp op, String source, long out, long in) {
        if (op.quantized()) return quantized(be, op, source, out, in);
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
        dev.cortado.tensor.Tensor w = Fusion.bind(be, ws, transposed == 0);
        dev.cortado.tensor.Tensor bias = Fusion.concatBiases(bs, got);
        return new Linear(w, bias == null ? null : be.weight(bias));
    }

    /** A MatMulNBits / MatMulInteger linear, its shape checked like a float one. */
    private static Linear quantized(Backend be, LinearOp op, String source, long out, long in) {
        long o = checkQuantized(op, source, out, in);
        Linear l = new Linear(op.nbits() != null ? be.quantizedWeight(op.nbits()) : be.int8Weight(op.int8()), null);
        if (op.bias() == null) return l;
        return new Linear(l.weight(), be.weight(TensorCheck.vector(source, op.bias().name(), op.bias().tensor(), o)));
    }

    /** The output features of a quantized linear, checked against {@code out × in} (−1: any). */
    private static long checkQuantized(LinearOp op, String source, long out, long in) {
        long o = op.nbits() != null ? op.nbits().rows() : op.int8().out(), i = op.nbits() != null ? op.nbits().cols() : op.int8().in();
        if (out >= 0 && o != out || in >= 0 && i != in) {
            throw new dev.cortado.CortadoException(source + ": " + op.node().opType() + " node '" + op.node().name() + "' has " + i
                    + " inputs × " + o + " outputs, expected " + (in < 0 ? "any" : in) + " × " + (out < 0 ? "any" : out));
        }
        return o;
    }

    /** A fused quantized linear of {@code in} → {@code parts · width} (GPT-2's c_attn) cut into {@code parts} linears. */
    public static Linear[] splitQuantized(Backend be, LinearOp op, String source, long in, int parts, int width) {
        checkQuantized(op, source, (long) parts * width, in);
        Linear[] out = new Linear[parts];
        for (int i = 0; i < parts; i++) {
            int a = i * width, b = a + width;
            Tensor w = op.nbits() != null ? be.quantizedWeight(QuantizedLinears.rows(op.nbits(), a, b))
                    : be.int8Weight(QuantizedLinears.columns(op.int8(), a, b));
            Tensor bias = op.bias() == null ? null
                    : be.weight(Slicing.rows(TensorCheck.vector(source, op.bias().name(), op.bias().tensor(), (long) parts * width), a, b));
            out[i] = new Linear(w, bias);
        }
        return out;
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
