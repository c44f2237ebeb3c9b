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
import dev.cortado.layers.TransformerDecoder;
import dev.cortado.model.GraphTracer;
import dev.cortado.model.GraphTracer.Const;
import dev.cortado.model.GraphTracer.LinearOp;
import dev.cortado.model.GraphTracer.NormOp;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * GPT-2 family: learned positions, pre-LayerNorm, GELU (tanh approximation for gelu_new), fused c_attn (Conv1D,
 * stored [in, out]) cut into q/k/v once at load, lm_head tied to wte.
 */
public final class Gpt2Family {
    private Gpt2Family() {}

    /** GPT-2's config.json, validated once ({@link ConfigCheck}). */
    record Spec(int hidden, int layers, int heads, int inner, int vocab, int positions, float eps, Activation act) {
        static Spec of(ModelConfig c) {
            ConfigCheck k = new ConfigCheck(c);
            int hidden = k.integerAny(1, ConfigCheck.MAX_DIM, "n_embd", "hidden_size");
            String headsKey = c.has("n_head") ? "n_head" : "num_attention_heads";
            int heads = k.heads(headsKey, hidden, c.has("n_embd") ? "n_embd" : "hidden_size", false);
            return new Spec(hidden, k.integerAny(1, ConfigCheck.MAX_LAYERS, "n_layer", "num_hidden_layers"), heads,
                    k.size("n_inner", 4 * hidden, ConfigCheck.MAX_DIM), k.size("vocab_size", -1, ConfigCheck.MAX_VOCAB),
                    k.integerAny(1, ConfigCheck.MAX_POSITIONS, "n_positions", "max_position_embeddings"),
                    (float) k.positive("layer_norm_epsilon", 1e-5), k.activation("activation_function", "gelu_new"));
        }
    }

    public static DecoderModel fromSafetensors(Path dir, Backend be) {
        ModelConfig c = ModelConfig.load(dir.resolve("config.json"));
        try (Safetensors st = Safetensors.openFolder(dir)) {
            Map<String, Tensor> map = new HashMap<>();
            st.tensors().forEach((n, v) -> map.put(n.startsWith("transformer.") ? n.substring("transformer.".length()) : n, v));
            // HF GPT-2 linears are Conv1D, stored [in, out]
            java.util.Set<String> conv = new java.util.HashSet<>();
            for (String n : map.keySet()) if (n.matches("h\\.\\d+\\.(attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj)\\.weight")) conv.add(n);
            return build(c, new WeightNames(be, map, conv, dir.resolve("model.safetensors").toString()), be, "safetensors", null);
        }
    }

    /** From a GGUF file of architecture gpt2 (linears [out, in], possibly quantized); the model owns {@code g}. */
    public static DecoderModel fromGguf(GgufModel g, Backend be) {
        ModelConfig c = ModelConfig.of(g.config(), g.file().path());
        DecoderModel m = build(c, WeightNames.withQuantized(be, g.tensors(), g.quantized(), g.file().path().toString()), be, "gguf", g);
        g.releaseConverted(); // every weight is bound (copied/packed/uploaded): the converted copies can go
        return m;
    }

    /** The decoder from HF-named weights (safetensors or GGUF), written once. */
    private static DecoderModel build(ModelConfig c, WeightNames w, Backend be, String source, AutoCloseable resources) {
        Spec s = Spec.of(c);
        ConfigCheck k = new ConfigCheck(c);
        java.util.Set<String> names = new java.util.HashSet<>(w.tensors().keySet());
        names.addAll(w.quantized().keySet());
        k.layersMatch(c.has("n_layer") ? "n_layer" : "num_hidden_layers", s.layers, names, "h.", w.source());
        List<DecoderLayer> layers = new ArrayList<>();
        int d = s.hidden;
        long vocab = w.dims("wte.weight", -1, d)[0]; // read only where it is bound (a GGUF table is converted when read)
        if (s.vocab > 0) k.matches("vocab_size", s.vocab, vocab, "wte.weight");
        // the head (the largest weight) is bound first, while nothing else is held: a load's peak is the packed weights
        // plus one layer's converted copies, not plus the head's
        Tensor wpe = positions(w.source(), "wpe.weight", w.need("wpe.weight"), s);
        boolean tied = !w.has("lm_head.weight");
        Linear head = new Linear(tied ? be.headWeight(w.need("wte.weight"), false) : w.headWeight("lm_head.weight", vocab, d), null);
        Tensor table = tied || w.sameQuantized("lm_head.weight", "wte.weight") ? be.tiedEmbedding(head.weight()) : null; // wte held once: the head serves the lookups
        Embeddings embeddings = new Embeddings(table != null ? table : w.table("wte.weight"), be.weight(wpe), 0, null, null, 1f);
        for (int l = 0; l < s.layers; l++) {
            String p = "h." + l + ".";
            Tensor qkvB = w.vector(p + "attn.c_attn.bias", 3L * d);
            // c_attn is already q|k|v fused (float [in, 3·d] / [3·d, in], or quantized rows): one projection, one GEMM
            Linear qkv = new Linear(w.linearWeight(p + "attn.c_attn.weight", 3L * d, d), be.weight(qkvB));
            Attention attn = Attention.fused(qkv, w.linear(p + "attn.c_proj", d, d), s.heads, s.heads, d / s.heads,
                    (float) (1.0 / Math.sqrt(d / s.heads)), null);
            Mlp mlp = new Mlp(w.linear(p + "mlp.c_fc", s.inner, d), null, w.linear(p + "mlp.c_proj", d, s.inner), s.act);
            layers.add(new DecoderLayer(attn, w.layerNorm(p + "ln_1", s.eps, d), null, null, mlp, w.layerNorm(p + "ln_2", s.eps, d), true));
        }
        TransformerDecoder dec = new TransformerDecoder(embeddings, layers, w.layerNorm("ln_f", s.eps, d), head, 1f, s.heads, d / s.heads, s.positions, null);
        return new DecoderModel(be, dec, describe(s, source), resources);
    }

    /** The learned position table: [n_positions or more, hidden]. */
    private static Tensor positions(String source, String name, Tensor t, Spec s) {
        TensorCheck.shape(source, name, t, -1, s.hidden);
        if (t.dim(0) < s.positions) {
            throw new CortadoException(source + ": tensor '" + name + "' has " + t.dim(0) + " positions but config.json n_positions is "
                    + s.positions + " (lower n_positions to at most " + t.dim(0) + ")");
        }
        return t;
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
            String src = onnx.toString();
            TensorCheck.shape(src, "token embedding", wte, -1, d);
            if (s.vocab > 0) new ConfigCheck(c).matches("vocab_size", s.vocab, wte.dim(0), "token embedding");
            positions(src, "position embedding", wpe, s);
            List<LinearOp> lin = t.linears();
            List<NormOp> norms = t.norms();
            new ConfigCheck(c).tracedLayersMatch(c.has("n_layer") ? "n_layer" : "num_hidden_layers", s.layers, lin.size(), norms.size(), 4, onnx.toString());
            if (lin.size() != 4 * s.layers + 1 || norms.size() != 2 * s.layers + 1) {
                throw new CortadoException(onnx.getFileName() + ": expected " + (4 * s.layers + 1) + " linear layers and "
                        + (2 * s.layers + 1) + " layer norms for a " + s.layers + "-layer GPT-2, found " + lin.size() + " and " + norms.size());
            }
            List<DecoderLayer> layers = new ArrayList<>();
            for (int l = 0; l < s.layers; l++) {
                LinearOp cAttn = lin.get(4 * l);
                Linear qkv;
                if (cAttn.quantized()) {
                    qkv = Weights.linear(be, cAttn, src, 3L * d, d);  // MatMulNBits / MatMulInteger c_attn: one quantized projection
                } else {
                    Tensor cw = cAttn.weight().tensor();
                    if (cAttn.weight().transposed()) TensorCheck.shape(src, cAttn.weight().name(), cw, 3L * d, d);
                    else TensorCheck.shape(src, cAttn.weight().name(), cw, d, 3L * d);
                    Tensor full = cAttn.weight().transposed() ? transpose(cw) : cw;
                    Tensor fullBias = cAttn.bias() == null ? null : TensorCheck.vector(src, cAttn.bias().name(), cAttn.bias().tensor(), 3L * d);
                    qkv = new Linear(be.linearWeight(full), fullBias == null ? null : be.weight(fullBias));
                }
                Attention attn = Attention.fused(qkv, Weights.linear(be, lin.get(4 * l + 1), src, d, d), s.heads, s.heads, d / s.heads,
                        (float) (1.0 / Math.sqrt(d / s.heads)), null);
                Mlp mlp = new Mlp(Weights.linear(be, lin.get(4 * l + 2), src, s.inner, d), null, Weights.linear(be, lin.get(4 * l + 3), src, d, s.inner), s.act);
                layers.add(new DecoderLayer(attn, Weights.norm(be, norms.get(2 * l), src, d), null, null, mlp, Weights.norm(be, norms.get(2 * l + 1), src, d), true));
            }
            TransformerDecoder dec = new TransformerDecoder(new Embeddings(be.weight(wte), be.weight(wpe), 0, null, null, 1f), layers,
                    Weights.norm(be, norms.getLast(), src, d), Weights.linear(be, lin.getLast(), src, wte.dim(0), d), 1f, s.heads, d / s.heads, s.positions, null);
            return new DecoderModel(be, dec, describe(s, "onnx" + dev.cortado.model.QuantizedLinears.describe(lin)), null);
        }
    }

    /** c_attn [d, 3d] (or transposed) cut into q, k, v linears. */
    private static Tensor transpose(Tensor t) {
        int r = (int) t.dim(0), c = (int) t.dim(1);
        float[] out = new float[r * c];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) out[j * r + i] = t.getFloat((long) i * c + j);
        return Tensor.of(out, c, r);
    }

    private static String describe(Spec s, String source) {
        return "gpt2 (" + source + "): " + s.layers + " layers, hidden " + s.hidden + ", " + s.heads + " heads, context " + s.positions;
    }
}
