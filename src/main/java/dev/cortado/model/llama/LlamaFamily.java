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
import dev.cortado.layers.TransformerDecoder;
import dev.cortado.model.GraphTracer;
import dev.cortado.model.GraphTracer.Const;
import dev.cortado.model.GraphTracer.LinearOp;
import dev.cortado.model.GraphTracer.NormOp;
import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.model.ConfigCheck;
import dev.cortado.model.ModelConfig;
import dev.cortado.model.TensorCheck;
import dev.cortado.model.WeightNames;
import dev.cortado.model.Weights;
import dev.cortado.gguf.GgufModel;
import dev.cortado.onnx.Node;
import dev.cortado.onnx.OnnxModel;
import dev.cortado.safetensors.Safetensors;
import dev.cortado.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Llama family (Llama, Mistral, Qwen2): RMSNorm pre-norm, rotary positions (rope_theta, linear/llama3
 * scaling), GQA, SwiGLU, optional q/k/v bias (Qwen2), tied or untied lm_head. Weights come from HF safetensors
 * (by name), GGUF (by name, after {@link GgufModel} renames them) or from an Optimum ONNX export (by graph tracing);
 * hyperparameters from config.json (GGUF: its metadata).
 */
public final class LlamaFamily {
    private LlamaFamily() {}

    /** Llama/Mistral/Qwen2 config.json, validated once ({@link ConfigCheck}). */
    record Spec(int hidden, int layers, int heads, int kvHeads, int headDim, int intermediate, int vocab, int maxPositions,
                float eps, Activation act, Attention.Rotary rotary, boolean tied) {
        static Spec of(ModelConfig c) {
            ConfigCheck k = new ConfigCheck(c);
            int hidden = k.size("hidden_size", ConfigCheck.MAX_DIM);
            int heads = k.heads("num_attention_heads", hidden, "hidden_size", c.has("head_dim"));
            int kv = k.kvHeads("num_key_value_heads", heads, "num_attention_heads");
            int headDim = k.headDim("head_dim", hidden, heads, true);
            int context = k.size("max_position_embeddings", 2048, ConfigCheck.MAX_POSITIONS);
            // sliding-window attention (Mistral, Qwen2 with use_sliding_window) equals full attention inside the
            // window; Cortado attends fully, so it caps the context there instead of answering wrongly beyond it
            if (c.has("sliding_window") && (!c.modelType().equals("qwen2") || k.bool("use_sliding_window", false))) {
                context = Math.min(context, k.size("sliding_window", ConfigCheck.MAX_POSITIONS));
            }
            return new Spec(hidden, k.size("num_hidden_layers", ConfigCheck.MAX_LAYERS), heads, kv, headDim,
                    k.size("intermediate_size", -1, ConfigCheck.MAX_DIM), k.size("vocab_size", -1, ConfigCheck.MAX_VOCAB),
                    context, (float) k.positive("rms_norm_eps", 1e-6),
                    k.activation("hidden_act", "silu"), LlamaFamily.rotary(k, headDim), k.bool("tie_word_embeddings", false));
        }
    }

    static final java.util.Set<String> ROPE_TYPES = java.util.Set.of("default", "linear", "llama3");

    /** HF inverse frequencies with rope_scaling (none, linear, llama3); every field checked. */
    static Attention.Rotary rotary(ConfigCheck k, int headDim) {
        ModelConfig c = k.config();
        double theta = k.positive("rope_theta", 10000);
        JsonNode params = c.json().get("rope_parameters");
        if (params != null && !params.isNull() && !params.isObject()) throw k.bad("rope_parameters", params, "an object or null");
        if (params != null && params.hasNonNull("rope_theta")) theta = k.positive("rope_parameters.rope_theta", params.get("rope_theta"));
        Attention.Rotary base = Attention.Rotary.standard(headDim, theta);
        String where = "rope_scaling";
        JsonNode rs = c.json().get("rope_scaling");
        if (rs == null || rs.isNull()) {
            rs = params;
            where = "rope_parameters";
        }
        if (rs == null || rs.isNull()) return base;
        if (!rs.isObject()) throw k.bad(where, rs, "an object or null");
        JsonNode typeNode = rs.has("rope_type") ? rs.get("rope_type") : rs.get("type");
        String typeKey = where + (rs.has("rope_type") ? ".rope_type" : ".type");
        if (typeNode != null && !typeNode.isNull() && (!typeNode.isTextual() || !ROPE_TYPES.contains(typeNode.textValue()))) {
            throw k.bad(typeKey, typeNode, "one of default, linear, llama3 (other rope scaling types are not supported)");
        }
        String type = typeNode == null || typeNode.isNull() ? "default" : typeNode.textValue();
        float[] inv = base.invFreq().clone();
        switch (type) {
            case "linear" -> {
                double f = field(k, rs, where, "factor");
                for (int i = 0; i < inv.length; i++) inv[i] = (float) (inv[i] / f);
            }
            case "llama3" -> {
                double f = field(k, rs, where, "factor"), lo = field(k, rs, where, "low_freq_factor"),
                        hi = field(k, rs, where, "high_freq_factor"), orig = field(k, rs, where, "original_max_position_embeddings");
                if (!(hi > lo)) throw k.bad(where + ".high_freq_factor", hi, "> low_freq_factor " + lo);
                llama3Scaling(inv, f, lo, hi, orig);
            }
            default -> { }
        }
        return new Attention.Rotary(inv, headDim, false);
    }

    /** A required positive number inside rope_scaling. */
    private static double field(ConfigCheck k, JsonNode rs, String where, String name) {
        JsonNode n = rs.get(name);
        if (n == null || n.isNull()) {
            throw new CortadoException(k.config().file() + ": " + where + " of type " + rs.path("rope_type").asText(rs.path("type").asText())
                    + " is missing '" + name + "' (a number > 0)");
        }
        return k.positive(where + "." + name, n);
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
        try (Safetensors st = Safetensors.openFolder(dir)) {
            return build(c, Spec.of(c), new WeightNames(be, st.tensors(), dir.resolve("model.safetensors").toString()), be, "safetensors", null);
        }
    }

    /**
     * From a GGUF file (architecture llama, mistral or qwen2): config from its metadata, weights by HF name, quantized
     * linear weights through {@code Backend.quantizedWeight}, Llama 3 rope scaling from llama.cpp's rope_freqs factors.
     * The model owns {@code g} (closed with it).
     */
    public static DecoderModel fromGguf(GgufModel g, Backend be) {
        ModelConfig c = ModelConfig.of(g.config(), g.file().path());
        Spec s = Spec.of(c);
        float[] factors = g.ropeFreqFactors();
        if (factors != null) {
            float[] inv = s.rotary.invFreq().clone();
            if (factors.length != inv.length) {
                throw new CortadoException(g.file().path() + ": rope_freqs.weight has " + factors.length + " factors, expected head_dim/2 = " + inv.length);
            }
            for (int i = 0; i < inv.length; i++) inv[i] /= factors[i];
            s = new Spec(s.hidden, s.layers, s.heads, s.kvHeads, s.headDim, s.intermediate, s.vocab, s.maxPositions, s.eps, s.act,
                    new Attention.Rotary(inv, s.headDim, false), s.tied);
        }
        DecoderModel m = build(c, s, WeightNames.withQuantized(be, g.tensors(), g.quantized(), g.file().path().toString()), be, "gguf", g);
        g.releaseConverted(); // every weight is bound (copied/packed/uploaded): the converted copies can go
        return m;
    }

    /** The decoder from HF-named weights (safetensors or GGUF), written once. */
    private static DecoderModel build(ModelConfig c, Spec s, WeightNames w, Backend be, String source, AutoCloseable resources) {
        ConfigCheck k = new ConfigCheck(c);
        k.layersMatch("num_hidden_layers", s.layers, layerNames(w), "model.layers.", w.source());
        String embed = "model.embed_tokens.weight"; // read only where it is bound (a GGUF table is converted when read)
        long vocab = w.dims(embed, -1, s.hidden)[0];
        if (s.vocab > 0) k.matches("vocab_size", s.vocab, vocab, "model.embed_tokens.weight");
        Tensor up0 = w.opt("model.layers.0.mlp.up_proj.weight");
        long inter = s.intermediate > 0 ? s.intermediate : up0 != null && up0.rank() == 2 ? up0.dim(0) : -1;
        int q = s.heads * s.headDim, kv = s.kvHeads * s.headDim, d = s.hidden;
        // the head (the largest weight) is bound first, while nothing else is held: a load's peak is the packed weights
        // plus one layer's converted copies, not plus the head's
        boolean tied = !w.has("lm_head.weight");
        Linear lmHead = new Linear(tied ? be.headWeight(w.need(embed), false) : w.headWeight("lm_head.weight", vocab, d), null);
        Tensor table = tied || w.sameQuantized("lm_head.weight", "model.embed_tokens.weight") ? be.tiedEmbedding(lmHead.weight()) : null; // the embeddings held once: the head serves the lookups
        Embeddings embeddings = new Embeddings(table != null ? table : w.table(embed), null, 0, null, null, 1f);
        List<DecoderLayer> layers = new ArrayList<>();
        for (int l = 0; l < s.layers; l++) {
            String p = "model.layers." + l + ".";
            // q|k|v and gate|up concatenated at load: one GEMM each (separate when the parts cannot be concatenated)
            Linear qkv = w.fusedLinear(d, p + "self_attn.q_proj", q, p + "self_attn.k_proj", kv, p + "self_attn.v_proj", kv);
            Attention attn = qkv != null ? fused(s, qkv, w.linear(p + "self_attn.o_proj", d, q))
                    : attention(s, w.linear(p + "self_attn.q_proj", q, d), w.linear(p + "self_attn.k_proj", kv, d),
                            w.linear(p + "self_attn.v_proj", kv, d), w.linear(p + "self_attn.o_proj", d, q));
            Linear gateUp = w.fusedLinear(d, p + "mlp.gate_proj", inter, p + "mlp.up_proj", inter);
            Mlp mlp = gateUp != null ? Mlp.fused(gateUp, w.linear(p + "mlp.down_proj", d, gateUp.out() / 2), s.act)
                    : new Mlp(w.linear(p + "mlp.up_proj", inter, d), w.linear(p + "mlp.gate_proj", inter, d), w.linear(p + "mlp.down_proj", d, inter), s.act);
            layers.add(new DecoderLayer(attn, w.rmsNorm(p + "input_layernorm.weight", s.eps, d), null, null, mlp,
                    w.rmsNorm(p + "post_attention_layernorm.weight", s.eps, d), true));
        }
        TransformerDecoder dec = new TransformerDecoder(embeddings, layers,
                w.rmsNorm("model.norm.weight", s.eps, d), lmHead, 1f, s.kvHeads, s.headDim, s.maxPositions, null);
        return new DecoderModel(be, dec, describe(c, s, source), resources);
    }

    /** Float and quantized weight names together (for the layer-count check). */
    private static java.util.Set<String> layerNames(WeightNames w) {
        java.util.Set<String> names = new java.util.HashSet<>(w.tensors().keySet());
        names.addAll(w.quantized().keySet());
        return names;
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
            String src = onnx.toString();
            TensorCheck.shape(src, "token embedding", embed, -1, s.hidden);
            if (s.vocab > 0) new ConfigCheck(c).matches("vocab_size", s.vocab, embed.dim(0), "token embedding");
            long vocab = embed.dim(0), inter = s.intermediate > 0 ? s.intermediate : -1;
            int q = s.heads * s.headDim, kv = s.kvHeads * s.headDim, d = s.hidden;
            List<LinearOp> lin = t.linears();
            List<NormOp> norms = t.norms();
            new ConfigCheck(c).tracedLayersMatch("num_hidden_layers", s.layers, lin.size(), norms.size(), 7, onnx.toString());
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
                // q|k|v and gate|up concatenated at load: one GEMM each
                Linear qkvL = Weights.fusedLinear(be, List.of(qkv[0], qkv[1], qkv[2]), src, new long[] {q, kv, kv}, d);
                Attention attn = qkvL != null ? fused(s, qkvL, Weights.linear(be, ops.get(3), src, d, q))
                        : attention(s, Weights.linear(be, qkv[0], src, q, d), Weights.linear(be, qkv[1], src, kv, d),
                                Weights.linear(be, qkv[2], src, kv, d), Weights.linear(be, ops.get(3), src, d, q));
                Linear gateUp = Weights.fusedLinear(be, List.of(gate, up), src, new long[] {inter, inter}, d);
                Mlp mlp;
                if (gateUp != null) {
                    mlp = Mlp.fused(gateUp, Weights.linear(be, ops.get(6), src, d, gateUp.out() / 2), s.act);
                } else {
                    Linear upL = Weights.linear(be, up, src, inter, d);
                    mlp = new Mlp(upL, Weights.linear(be, gate, src, upL.out(), d), Weights.linear(be, ops.get(6), src, d, upL.out()), s.act);
                }
                layers.add(new DecoderLayer(attn, Weights.norm(be, norms.get(2 * l), src, d), null, null, mlp,
                        Weights.norm(be, norms.get(2 * l + 1), src, d), true));
            }
            TransformerDecoder dec = new TransformerDecoder(new Embeddings(be.weight(embed), null, 0, null, null, 1f), layers,
                    Weights.norm(be, norms.getLast(), src, d), Weights.linear(be, lin.getLast(), src, vocab, d), 1f, s.kvHeads, s.headDim,
                    s.maxPositions, null);
            return new DecoderModel(be, dec, describe(c, s, "onnx" + dev.cortado.model.QuantizedLinears.describe(lin)), null);
        }
    }

    private static boolean feedsSigmoid(GraphTracer t, LinearOp op) {
        return t.graph().consumers(op.output()).stream().anyMatch(n -> n.opType().equals("Sigmoid"));
    }

    private static Attention fused(Spec s, Linear qkv, Linear o) {
        return Attention.fused(qkv, o, s.heads, s.kvHeads, s.headDim, (float) (1.0 / Math.sqrt(s.headDim)), s.rotary);
    }

    private static Attention attention(Spec s, Linear q, Linear k, Linear v, Linear o) {
        return new Attention(q, k, v, o, s.heads, s.kvHeads, s.headDim, (float) (1.0 / Math.sqrt(s.headDim)), s.rotary);
    }

    private static String describe(ModelConfig c, Spec s, String source) {
        return "llama (" + c.modelType() + ", " + source + "): " + s.layers + " layers, hidden " + s.hidden + ", "
                + s.heads + " heads / " + s.kvHeads + " kv heads, head_dim " + s.headDim + ", context " + s.maxPositions;
    }
}
