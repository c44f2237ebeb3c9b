package dev.cortado.model;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.backend.Backend.Activation;
import dev.cortado.layers.Linear;
import dev.cortado.layers.Norm;
import dev.cortado.tensor.Tensor;
import java.util.Map;

/**
 * Named-weight access with Hugging Face parameter names, filled from safetensors or from a traced ONNX graph.
 * Linear weights are [out, in] (PyTorch) unless listed in {@code inOut} (ONNX MatMul layout [in, out]).
 */
public record WeightNames(Backend be, Map<String, Tensor> tensors, java.util.Set<String> inOut, String source) {

    public WeightNames(Backend be, Map<String, Tensor> tensors, String source) {
        this(be, tensors, java.util.Set.of(), source);
    }

    /** A [out, in] (or, if listed in inOut, [in, out]) matrix bound as a backend Linear weight [in, out]. */
    public Tensor linearWeight(String name) {
        Tensor t = need(name);
        return inOut.contains(name) ? be.linearWeight(t) : be.weightTransposed(t);
    }

    public Tensor need(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new CortadoException(source + " has no tensor '" + name + "'");
        return t;
    }

    public Tensor opt(String name) {
        return tensors.get(name);
    }

    /** prefix.weight [out, in] and optional prefix.bias. */
    public Linear linear(String prefix) {
        Tensor b = tensors.get(prefix + ".bias");
        return new Linear(linearWeight(prefix + ".weight"), b == null ? null : be.weight(b.reshape(b.numel())));
    }

    public Norm layerNorm(String prefix, float eps) {
        Tensor b = tensors.get(prefix + ".bias");
        return new Norm(Norm.Kind.LAYER, be.weight(need(prefix + ".weight")), b == null ? null : be.weight(b), eps);
    }

    public Norm rmsNorm(String name, float eps) {
        return new Norm(Norm.Kind.RMS, be.weight(need(name)), null, eps);
    }

    public static Activation activation(String name, String where) {
        return switch (name) {
            case "gelu" -> Activation.GELU_ERF;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> Activation.GELU_TANH;
            case "relu" -> Activation.RELU;
            case "silu", "swish" -> Activation.SILU;
            default -> throw new CortadoException(where + ": unsupported activation '" + name + "'");
        };
    }
}
