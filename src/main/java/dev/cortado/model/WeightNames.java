package dev.cortado.model;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.backend.Backend.Activation;
import dev.cortado.layers.Linear;
import dev.cortado.layers.Norm;
import dev.cortado.tensor.Tensor;
import java.util.Map;

/** Named-weight access for HF safetensors checkpoints: Linear ([out, in] → transposed once), norms, errors. */
public record WeightNames(Backend be, Map<String, Tensor> tensors, String source) {

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
        return new Linear(be.weightTransposed(need(prefix + ".weight")), b == null ? null : be.weight(b));
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
