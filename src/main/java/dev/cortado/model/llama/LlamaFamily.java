package dev.cortado.model.llama;

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
import dev.cortado.model.Weights;
import dev.cortado.onnx.Node;
import dev.cortado.onnx.OnnxModel;
import dev.cortado.safetensors.Safetensors;
import dev.cortado.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Llama family (Llama, Mistral, Qwen2): RMSNorm pre-norm, rotary positions (rope_theta, linear/llama3
 * scaling), GQA, SwiGLU, optional q/k/v bias (Qwen2), tied or untied lm_head. Weights come from HF safetensors
 * (by name) or from an Optimum ONNX export (by graph tracing); hyperparameters from config.json.
 */
public final class LlamaFamily {
    private LlamaFamily() {}

    record Spec(int hidden, int layers, int heads, int kvHeads, int headDim, int maxPositions, float eps,
                Attention.Rotary rotary, boolean tied) {
        static Spec of(ModelConfig c) {
            int hidden = c.integer("hidden_size");
            int heads = c.integer("num_attention_heads");
            int headDim = c.integer("head_dim", hidden / heads);
            return new Spec(hidden, c.integer("num_hidden_layers"), heads, c.integer("num_key_value_heads", heads), headDim,
                    c.integer("max_position_embeddings", 2048), (float) c.number("rms_norm_eps", 1e-6),
                    LlamaFamily.rotary(c, headDim), c.bool("tie_word_embeddings", false));
        }
    }

    /** HF inverse frequencies with rope_scaling (none, linear, llama3). */
    static Attention.Rotary rotary(ModelConfig c, int headDim) {
        double theta = c.number("rope_theta", 10000);
        if (c.json().has("rope_parameters") && c.json().get("rope_parameters").has("rope_theta")) {
            theta = c.json().get("rope_parameters").get("rope_theta").asDouble();
        }
        Attention.Rotary base = Attention.Rotary.standard(headDim, theta);
        var rs = c.json().get("rope_scaling");
        if (rs == null || rs.isNull()) rs = c.json().get("rope_parameters");
        if (rs == null || rs.isNull()) return base;
        String type = rs.has("rope_type") ? rs.get("rope_type").asText() : rs.path("type").asText("default");
        float[] inv = base.invFreq().clone();
        switch (type) {
            case "default" -> { }
            case "linear" -> {
                double f = rs.get("factor").asDouble();
                for (int i = 0; i < inv.length; i++) inv[i] = (float) (inv[i] / f);
            }
            case "llama3" -> {
                double f = rs.get("factor").asDouble(), lo = rs.get("low_freq_factor").asDouble(),
                        hi = rs.get("high_freq_factor").asDouble(), orig = rs.get("original_max_position_embeddings").asDouble();
                llama3Scaling(inv, f, lo, hi, orig);
            }
            default -> throw new CortadoException(c.file() + ": unsupported rope scaling type '" + type + "' (default, linear, llama3)");
        }
        return new Attention.Rotary(inv, headDim, false);
    }

    /** Llama 3 rope scaling of inverse frequencies, in place (transformers' _compute_llama3_parameters). */
    public static void llama3Scaling(float[] inv, double factor, double lowFreqFactor, double highFreqFactor, double originalMax) {
        double loWave = originalMax / lowFreqFactor, hiWave = originalMax / highFreqFactor;
        for (int i = 0; i < inv.length; i++) {
            double wave = 2 * Math.PI / inv[i];
            if (wave < hiWave) continue;
            if (wave > loWave) {
                inv[i] = (float) (inv[i] / factor);
            } else {
                double smooth = (originalMax / wave - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                inv[i] = (float) ((1 - smooth) * inv[i] / factor + smooth * inv[i]);
            }
        }
    }

    /** From a folder with config.json and model.safetensors (or sharded). */
    public static DecoderModel fromSafetensors(Path dir, Backend be) {
        ModelConfig c = ModelConfig.load(dir.resolve("config.json"));
        Spec s = Spec.of(c);
        try (Safetensors st = Safetensors.openFolder(dir)) {
            Map<String, Tensor> w = st.tensors();
            Tensor embed = need(w, "model.embed_tokens.weight");
            List<DecoderLayer> layers = new ArrayList<>();
            for (int l = 0; l < s.layers; l++) {
                String p = "model.layers." + l + ".";
                Attention attn = attention(be, s, lin(be, w, p + "self_attn.q_proj"), lin(be, w, p + "self_attn.k_proj"),
                        lin(be, w, p + "self_attn.v_proj"), lin(be, w, p + "self_attn.o_proj"));
                Mlp mlp = new Mlp(lin(be, w, p + "mlp.up_proj"), lin(be, w, p + "mlp.gate_proj"), lin(be, w, p + "mlp.down_proj"), Activation.SILU);
                layers.add(new DecoderLayer(attn, rms(be, need(w, p + "input_layernorm.weight"), s), null, null, mlp,
                        rms(be, need(w, p + "post_attention_layernorm.weight"), s), true));
            }
            Tensor head = w.get("lm_head.weight");
            Linear lmHead = new Linear(be.weightTransposed(head != null ? head : embed), null);
            TransformerDecoder dec = new TransformerDecoder(new Embeddings(be.weight(embed), null, 0, null, null, 1f), layers,
                    rms(be, need(w, "model.norm.weight"), s), lmHead, 1f, s.kvHeads, s.headDim, s.maxPositions, null);
            return new DecoderModel(be, dec, describe(c, s, "safetensors"), null);
        }
    }

    /** From an Optimum-layout decoder ONNX file (weights traced) with config.json beside it or in the parent folder. */
    public static DecoderModel fromOnnx(Path onnx, Backend be) {
        ModelConfig c = ModelConfig.find(onnx);
        Spec s = Spec.of(c);
        try (OnnxModel m = OnnxModel.open(onnx)) {
            GraphTracer t = new GraphTracer(m.graph());
            Tensor embed = null;
            for (Node n : m.graph().nodes()) {
                if (n.opType().equals("Gather") && "input_ids".equals(t.rootInput(n.input(1)))) {
                    Const e = t.constant(n.input(0));
                    if (e != null) embed = e.tensor();
                }
            }
            if (embed == null) throw new CortadoException(onnx.getFileName() + ": no token embedding Gather on input_ids");
            List<LinearOp> lin = t.linears();
            List<NormOp> norms = t.norms();
            if (lin.size() != 7 * s.layers + 1 || norms.size() != 2 * s.layers + 1) {
                throw new CortadoException(onnx.getFileName() + ": expected " + (7 * s.layers + 1) + " linear layers and "
                        + (2 * s.layers + 1) + " RMS norms for a " + s.layers + "-layer Llama, found " + lin.size() + " and " + norms.size());
            }
            List<DecoderLayer> layers = new ArrayList<>();
            for (int l = 0; l < s.layers; l++) {
                List<LinearOp> ops = lin.subList(7 * l, 7 * l + 7);
                LinearOp[] qkv = t.orderQkv(ops.subList(0, 3));
                LinearOp gate = feedsSigmoid(t, ops.get(4)) ? ops.get(4) : ops.get(5);
                LinearOp up = gate == ops.get(4) ? ops.get(5) : ops.get(4);
                Attention attn = attention(be, s, Weights.linear(be, qkv[0]), Weights.linear(be, qkv[1]), Weights.linear(be, qkv[2]),
                        Weights.linear(be, ops.get(3)));
                Mlp mlp = new Mlp(Weights.linear(be, up), Weights.linear(be, gate), Weights.linear(be, ops.get(6)), Activation.SILU);
                layers.add(new DecoderLayer(attn, Weights.norm(be, norms.get(2 * l)), null, null, mlp, Weights.norm(be, norms.get(2 * l + 1)), true));
            }
            TransformerDecoder dec = new TransformerDecoder(new Embeddings(be.weight(embed), null, 0, null, null, 1f), layers,
                    Weights.norm(be, norms.getLast()), Weights.linear(be, lin.getLast()), 1f, s.kvHeads, s.headDim, s.maxPositions, null);
            return new DecoderModel(be, dec, describe(c, s, "onnx"), null);
        }
    }

    private static boolean feedsSigmoid(GraphTracer t, LinearOp op) {
        return t.graph().consumers(op.output()).stream().anyMatch(n -> n.opType().equals("Sigmoid"));
    }

    private static Attention attention(Backend be, Spec s, Linear q, Linear k, Linear v, Linear o) {
        return new Attention(q, k, v, o, s.heads, s.kvHeads, s.headDim, (float) (1.0 / Math.sqrt(s.headDim)), s.rotary);
    }

    private static Norm rms(Backend be, Tensor gamma, Spec s) {
        return new Norm(Norm.Kind.RMS, be.weight(gamma), null, s.eps);
    }

    private static Linear lin(Backend be, Map<String, Tensor> w, String prefix) {
        Tensor b = w.get(prefix + ".bias");
        return new Linear(be.weightTransposed(need(w, prefix + ".weight")), b == null ? null : be.weight(b));
    }

    private static Tensor need(Map<String, Tensor> w, String name) {
        Tensor t = w.get(name);
        if (t == null) throw new CortadoException("safetensors has no tensor '" + name + "'");
        return t;
    }

    private static String describe(ModelConfig c, Spec s, String source) {
        return "llama (" + c.modelType() + ", " + source + "): " + s.layers + " layers, hidden " + s.hidden + ", "
                + s.heads + " heads / " + s.kvHeads + " kv heads, head_dim " + s.headDim + ", context " + s.maxPositions;
    }
}
