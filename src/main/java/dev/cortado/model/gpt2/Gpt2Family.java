package dev.cortado.model.gpt2;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.backend.Backend.Activation;
import dev.cortado.engine.DecoderModel;
import dev.cortado.layers.Attention;
import dev.cortado.layers.DecoderLayer;
import dev.cortado.layers.Embeddings;
import dev.cortado.layers.Linear;
import dev.cortado.layers.Mlp;
import dev.cortado.layers.Norm;
import dev.cortado.layers.TransformerDecoder;
import dev.cortado.model.GraphTracer;
import dev.cortado.model.GraphTracer.Const;
import dev.cortado.model.GraphTracer.LinearOp;
import dev.cortado.model.GraphTracer.NormOp;
import dev.cortado.model.ModelConfig;
import dev.cortado.model.Slicing;
import dev.cortado.model.Weights;
import dev.cortado.onnx.Node;
import dev.cortado.onnx.OnnxModel;
import dev.cortado.safetensors.Safetensors;
import dev.cortado.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * GPT-2 family: learned positions, pre-LayerNorm, GELU (tanh approximation for gelu_new), fused c_attn (Conv1D,
 * stored [in, out]) cut into q/k/v once at load, lm_head tied to wte.
 */
public final class Gpt2Family {
    private Gpt2Family() {}

    record Spec(int hidden, int layers, int heads, int positions, float eps, Activation act) {
        static Spec of(ModelConfig c) {
            String act = c.str("activation_function", "gelu_new");
            return new Spec(c.integerAny("n_embd", "hidden_size"), c.integerAny("n_layer", "num_hidden_layers"),
                    c.integerAny("n_head", "num_attention_heads"), c.integerAny("n_positions", "max_position_embeddings"),
                    (float) c.number("layer_norm_epsilon", 1e-5),
                    switch (act) {
                        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> Activation.GELU_TANH;
                        case "gelu" -> Activation.GELU_ERF;
                        case "relu" -> Activation.RELU;
                        default -> throw new CortadoException(c.file() + ": unsupported activation_function '" + act + "'");
                    });
        }
    }

    public static DecoderModel fromSafetensors(Path dir, Backend be) {
        ModelConfig c = ModelConfig.load(dir.resolve("config.json"));
        Spec s = Spec.of(c);
        try (Safetensors st = Safetensors.openFolder(dir)) {
            Map<String, Tensor> w = new HashMap<>();
            st.tensors().forEach((k, v) -> w.put(k.startsWith("transformer.") ? k.substring("transformer.".length()) : k, v));
            List<DecoderLayer> layers = new ArrayList<>();
            int d = s.hidden;
            for (int l = 0; l < s.layers; l++) {
                String p = "h." + l + ".";
                Tensor qkvW = need(w, p + "attn.c_attn.weight"), qkvB = need(w, p + "attn.c_attn.bias");
                Linear[] qkv = new Linear[3];
                for (int i = 0; i < 3; i++) {
                    qkv[i] = new Linear(be.linearWeight(Slicing.columns(qkvW, i * d, (i + 1) * d)), be.weight(Slicing.rows(qkvB, i * d, (i + 1) * d)));
                }
                Attention attn = new Attention(qkv[0], qkv[1], qkv[2], conv(be, w, p + "attn.c_proj"), s.heads, s.heads, d / s.heads,
                        (float) (1.0 / Math.sqrt(d / s.heads)), null);
                Mlp mlp = new Mlp(conv(be, w, p + "mlp.c_fc"), null, conv(be, w, p + "mlp.c_proj"), s.act);
                layers.add(new DecoderLayer(attn, ln(be, w, p + "ln_1", s), null, null, mlp, ln(be, w, p + "ln_2", s), true));
            }
            Tensor wte = need(w, "wte.weight");
            Tensor head = w.get("lm_head.weight");
            TransformerDecoder dec = new TransformerDecoder(new Embeddings(be.weight(wte), be.weight(need(w, "wpe.weight")), 0, null, null, 1f),
                    layers, ln(be, w, "ln_f", s), new Linear(be.weightTransposed(head != null ? head : wte), null), 1f, s.heads, d / s.heads, s.positions, null);
            return new DecoderModel(be, dec, describe(s, "safetensors"), null);
        }
    }

    /** Optimum-layout GPT-2 decoder ONNX: weights traced (c_attn, c_proj, c_fc, c_proj per layer, then lm_head). */
    public static DecoderModel fromOnnx(Path onnx, Backend be) {
        ModelConfig c = ModelConfig.find(onnx);
        Spec s = Spec.of(c);
        int d = s.hidden;
        try (OnnxModel m = OnnxModel.open(onnx)) {
            GraphTracer t = new GraphTracer(m.graph());
            Tensor wte = null, wpe = null;
            for (Node n : m.graph().nodes()) {
                if (!n.opType().equals("Gather")) continue;
                Const e = t.constant(n.input(0));
                if (e == null || e.tensor().rank() != 2) continue;
                if ("input_ids".equals(t.rootInput(n.input(1)))) wte = e.tensor();
                else if (e.tensor().dim(1) == d) wpe = e.tensor();
            }
            if (wte == null || wpe == null) throw new CortadoException(onnx.getFileName() + ": cannot find GPT-2 token/position embeddings");
            List<LinearOp> lin = t.linears();
            List<NormOp> norms = t.norms();
            if (lin.size() != 4 * s.layers + 1 || norms.size() != 2 * s.layers + 1) {
                throw new CortadoException(onnx.getFileName() + ": expected " + (4 * s.layers + 1) + " linear layers and "
                        + (2 * s.layers + 1) + " layer norms for a " + s.layers + "-layer GPT-2, found " + lin.size() + " and " + norms.size());
            }
            List<DecoderLayer> layers = new ArrayList<>();
            for (int l = 0; l < s.layers; l++) {
                LinearOp cAttn = lin.get(4 * l);
                Tensor full = cAttn.weight().transposed() ? transpose(cAttn.weight().tensor()) : cAttn.weight().tensor();
                Linear[] qkv = new Linear[3];
                for (int i = 0; i < 3; i++) {
                    Tensor b = cAttn.bias() == null ? null : be.weight(Slicing.rows(cAttn.bias().tensor(), i * d, (i + 1) * d));
                    qkv[i] = new Linear(be.linearWeight(Slicing.columns(full, i * d, (i + 1) * d)), b);
                }
                Attention attn = new Attention(qkv[0], qkv[1], qkv[2], Weights.linear(be, lin.get(4 * l + 1)), s.heads, s.heads, d / s.heads,
                        (float) (1.0 / Math.sqrt(d / s.heads)), null);
                Mlp mlp = new Mlp(Weights.linear(be, lin.get(4 * l + 2)), null, Weights.linear(be, lin.get(4 * l + 3)), s.act);
                layers.add(new DecoderLayer(attn, Weights.norm(be, norms.get(2 * l)), null, null, mlp, Weights.norm(be, norms.get(2 * l + 1)), true));
            }
            TransformerDecoder dec = new TransformerDecoder(new Embeddings(be.weight(wte), be.weight(wpe), 0, null, null, 1f), layers,
                    Weights.norm(be, norms.getLast()), Weights.linear(be, lin.getLast()), 1f, s.heads, d / s.heads, s.positions, null);
            return new DecoderModel(be, dec, describe(s, "onnx"), null);
        }
    }

    private static Tensor transpose(Tensor t) {
        int r = (int) t.dim(0), c = (int) t.dim(1);
        float[] out = new float[r * c];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) out[j * r + i] = t.getFloat((long) i * c + j);
        return Tensor.of(out, c, r);
    }

    private static Linear conv(Backend be, Map<String, Tensor> w, String prefix) {
        return new Linear(be.linearWeight(need(w, prefix + ".weight")), be.weight(need(w, prefix + ".bias")));
    }

    private static Norm ln(Backend be, Map<String, Tensor> w, String prefix, Spec s) {
        return new Norm(Norm.Kind.LAYER, be.weight(need(w, prefix + ".weight")), be.weight(need(w, prefix + ".bias")), s.eps);
    }

    private static Tensor need(Map<String, Tensor> w, String name) {
        Tensor t = w.get(name);
        if (t == null) throw new CortadoException("safetensors has no tensor '" + name + "'");
        return t;
    }

    private static String describe(Spec s, String source) {
        return "gpt2 (" + source + "): " + s.layers + " layers, hidden " + s.hidden + ", " + s.heads + " heads, context " + s.positions;
    }
}
