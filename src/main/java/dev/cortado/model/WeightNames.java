package dev.cortado.model;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.layers.Linear;
import dev.cortado.layers.Norm;
import dev.cortado.tensor.Tensor;
import java.util.Map;

/**
 * Named-weight access with Hugging Face parameter names, filled from safetensors or from a traced ONNX graph.
 * Linear weights are [out, in] (PyTorch) unless listed in {@code inOut} (ONNX MatMul layout [in, out]). Every
 * accessor checks dtype and shape against the dimensions the family expects ({@link TensorCheck}).
 */
public record WeightNames(Backend be, Map<String, Tensor> tensors, java.util.Set<String> inOut, String source) {

    public WeightNames(Backend be, Map<String, Tensor> tensors, String source) {
        this(be, tensors, java.util.Set.of(), source);
    }

    /** A matrix of {@code out × in} bound as a backend Linear weight [in, out]. */
    public Tensor linearWeight(String name, long out, long in) {
        Tensor t = need(name);
        if (inOut.contains(name)) return be.linearWeight(TensorCheck.shape(source, name, t, in, out));
        return be.weightTransposed(TensorCheck.shape(source, name, t, out, in));
    }

    /** The vocabulary projection {@code out × in} ({@link Backend#headWeight}: stays 16-bit under --quantize). */
    public Tensor headWeight(String name, long out, long in) {
        Tensor t = need(name);
        if (inOut.contains(name)) return be.headWeight(TensorCheck.shape(source, name, t, in, out), true);
        return be.headWeight(TensorCheck.shape(source, name, t, out, in), false);
    }

    public Tensor need(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new CortadoException(source + " has no tensor '" + name + "'");
        return t;
    }

    /** A float tensor of exactly {@code shape}. */
    public Tensor need(String name, long... shape) {
        return TensorCheck.shape(source, name, need(name), shape);
    }

    public Tensor opt(String name) {
        return tensors.get(name);
    }

    /** prefix.weight [out, in] and optional prefix.bias [out]. */
    /** A 2-D weight's row count (a feed-forward width config.json leaves out), or 1 when absent or implausible. */
    public int rowsOf(String name) {
        Tensor t = opt(name);
        return t == null || t.rank() != 2 || t.dim(0) > ConfigCheck.MAX_DIM ? 1 : (int) t.dim(0);
    }

    /** BART-style multi-head attention: {@code prefix}.q_proj/k_proj/v_proj/out_proj, d → d, scaled by head_dim^-0.5. */
    public dev.cortado.layers.Attention mhaProjections(String prefix, int heads, int d) {
        int hd = d / heads;
        return new dev.cortado.layers.Attention(linear(prefix + ".q_proj", d, d), linear(prefix + ".k_proj", d, d),
                linear(prefix + ".v_proj", d, d), linear(prefix + ".out_proj", d, d), heads, heads, hd, (float) Math.pow(hd, -0.5), null);
    }

    public Linear linear(String prefix, long out, long in) {
        Tensor b = tensors.get(prefix + ".bias");
        return new Linear(linearWeight(prefix + ".weight", out, in),
                b == null ? null : be.weight(TensorCheck.vector(source, prefix + ".bias", b, out)));
    }

    /** prefix.weight [n] and optional prefix.bias [n]. */
    public Norm layerNorm(String prefix, float eps, long n) {
        Tensor b = tensors.get(prefix + ".bias");
        return new Norm(Norm.Kind.LAYER, be.weight(vector(prefix + ".weight", n)),
                b == null ? null : be.weight(TensorCheck.vector(source, prefix + ".bias", b, n)), eps);
    }

    public Norm rmsNorm(String name, float eps, long n) {
        return new Norm(Norm.Kind.RMS, be.weight(vector(name, n)), null, eps);
    }

    /** A float vector of {@code n} elements. */
    public Tensor vector(String name, long n) {
        return TensorCheck.vector(source, name, need(name), n);
    }
}
