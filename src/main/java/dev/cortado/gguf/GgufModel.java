package dev.cortado.gguf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.gguf.GgufFile.TensorInfo;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Tensor;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A GGUF model seen as a Hugging Face one, so the families read it with the code they use for safetensors: a
 * config.json built from {@code <arch>.*} metadata, tensors renamed to HF parameter names (llama.cpp's
 * convert_hf_to_gguf.py mapping reversed), llama.cpp's Q/K row permutation undone (llama, mistral), and linear
 * weights that are quantized kept as {@link QuantizedMatrix} (lossless: K-quants too — Q4_K as 4-bit codes, Q5_K and
 * Q6_K as 8-bit codes, each with its exact float32 block scales and offsets) for {@code Backend.quantizedWeight}.
 * A quantized token embedding is offered both ways: quantized (for {@code Backend.quantizedTable}, or as the tied
 * head) and dequantized to float32 (read only by a backend that cannot hold it quantized); float tensors stay in the
 * mapping (F32, F16, BF16). Llama 3 rope scaling comes as llama.cpp writes it: the {@code rope_freqs.weight} factors.
 *
 * <p>Nothing is converted up front: {@link #tensors()} and {@link #quantized()} convert a tensor when it is read,
 * right before a backend binds it, and free it once the next layer is read ({@link GgufWeights}), so the peak RSS of a
 * load is about the packed weights plus one layer, not the file plus every converted copy.
 */
public final class GgufModel implements AutoCloseable {
    public static final Set<String> ARCHITECTURES = Set.of("llama", "mistral", "qwen2", "gpt2");

    private final GgufFile file;
    private final String arch;
    private final ObjectNode config;
    private final GgufWeights weights;
    private final float[] ropeFreqFactors;

    private GgufModel(GgufFile f) {
        this.file = f;
        GgufMetadata m = GgufMetadata.of(f);
        arch = m.string("general.architecture");
        if (!ARCHITECTURES.contains(arch)) {
            throw new CortadoException(f.path() + ": GGUF architecture '" + GgufFile.shown(arch) + "' has no Cortado family (supported: llama, mistral, qwen2, gpt2)");
        }
        for (TensorInfo t : f.tensors().values()) {
            if (!t.type().readable()) {
                throw new CortadoException(f.path() + ": tensor '" + GgufFile.shown(t.name()) + "' has type " + t.type() + ", which Cortado does not read (supported: "
                        + GgmlType.READABLE + "; re-quantize the model to one of them, e.g. Q4_K_M or Q8_0)");
            }
        }
        TensorInfo embd = f.tensor("token_embd.weight");
        if (embd == null || embd.ne().length != 2) throw new CortadoException(f.path() + ": no 2-D tensor 'token_embd.weight' (the token embeddings)");
        config = arch.equals("gpt2") ? gpt2Config(m, embd) : llamaConfig(m, embd);
        TensorInfo rf = f.tensor("rope_freqs.weight");
        try (java.lang.foreign.Arena tmp = java.lang.foreign.Arena.ofConfined()) {
            ropeFreqFactors = rf == null ? null : GgufTensors.tensor(rf, tmp).toFloatArray();
        }
        Map<String, TensorInfo> floats = new LinkedHashMap<>(), quants = new LinkedHashMap<>();
        Map<String, Integer> permute = new HashMap<>();
        for (TensorInfo t : f.tensors().values()) {
            if (t.name().equals("rope_freqs.weight")) continue;
            String hf = hfName(t.name());
            if (hf == null) continue; // not part of the families' weights
            int heads = permuteHeads(hf);
            if (heads > 0) {
                GgufWeights.checkHeads(t.rows(), heads, t.name());
                permute.put(hf, heads);
            }
            boolean linear = hf.endsWith("_proj.weight") || hf.equals("lm_head.weight") || hf.matches(".*\\.(c_attn|c_proj|c_fc)\\.weight");
            boolean embedding = hf.equals(embedName());
            if (GgufTensors.isQuantized(t.type()) && (linear || embedding)) {
                if (t.rows() > Integer.MAX_VALUE || t.cols() > Integer.MAX_VALUE) throw new CortadoException(f.path() + ": tensor '" + GgufFile.shown(t.name()) + "' is too large");
                quants.put(hf, t); // an embedding is held quantized (and, tied, serves as the lm_head)
                if (!linear) floats.put(hf, t); // dequantized only if a backend cannot hold it quantized
            } else {
                floats.put(hf, t);
            }
        }
        if (!f.tensors().containsKey("output.weight") && quants.containsKey(embedName())) {
            quants.put("lm_head.weight", quants.get(embedName())); // tied: the same quantized matrix, as llama.cpp does
            if (permute.containsKey(embedName())) permute.put("lm_head.weight", permute.get(embedName()));
        }
        weights = new GgufWeights(floats, quants, permute);
    }

    /** Reads the file's architecture and config; weights are converted as they are read. The model keeps the file mapped until closed. */
    public static GgufModel load(GgufFile f) {
        return new GgufModel(f);
    }

    private String embedName() {
        return arch.equals("gpt2") ? "wte.weight" : "model.embed_tokens.weight";
    }

    /** Heads whose rows llama.cpp permuted in HF tensor {@code hf} (llama, mistral q/k), or 0. */
    private int permuteHeads(String hf) {
        if (arch.equals("gpt2") || arch.equals("qwen2")) return 0;
        int heads = config.path("num_attention_heads").asInt(), kv = config.path("num_key_value_heads").asInt(heads);
        return hf.matches(".*q_proj\\.(weight|bias)") ? heads : hf.matches(".*k_proj\\.(weight|bias)") ? kv : 0;
    }

    private static final Map<String, String> LLAMA = Map.of("attn_norm", "input_layernorm", "attn_q", "self_attn.q_proj",
            "attn_k", "self_attn.k_proj", "attn_v", "self_attn.v_proj", "attn_output", "self_attn.o_proj", "ffn_norm", "post_attention_layernorm",
            "ffn_gate", "mlp.gate_proj", "ffn_up", "mlp.up_proj", "ffn_down", "mlp.down_proj");
    private static final Map<String, String> GPT2 = Map.of("attn_norm", "ln_1", "attn_qkv", "attn.c_attn", "attn_output", "attn.c_proj",
            "ffn_norm", "ln_2", "ffn_up", "mlp.c_fc", "ffn_down", "mlp.c_proj");

    /** The HF parameter name of a GGUF tensor name, or null when the families do not use it. */
    String hfName(String name) {
        boolean gpt2 = arch.equals("gpt2");
        switch (name) {
            case "token_embd.weight": return embedName();
            case "position_embd.weight": return gpt2 ? "wpe.weight" : null;
            case "output.weight": return "lm_head.weight";
            case "output_norm.weight": return gpt2 ? "ln_f.weight" : "model.norm.weight";
            case "output_norm.bias": return gpt2 ? "ln_f.bias" : null;
            default: break;
        }
        if (!name.startsWith("blk.")) return null;
        int dot = name.indexOf('.', 4), last = name.lastIndexOf('.');
        if (dot < 0 || last <= dot) return null;
        String layer = name.substring(4, dot), part = name.substring(dot + 1, last), suffix = name.substring(last);
        String mapped = (gpt2 ? GPT2 : LLAMA).get(part);
        if (mapped == null || !layer.matches("\\d{1,6}")) return null;
        return (gpt2 ? "h." : "model.layers.") + layer + "." + mapped + suffix;
    }

    private ObjectNode llamaConfig(GgufMetadata m, TensorInfo embd) {
        String a = arch + ".";
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.put("model_type", arch);
        int hidden = m.integer(a + "embedding_length", 1, 1 << 20);
        int heads = m.integer(a + "attention.head_count", 1, 1 << 12);
        c.put("hidden_size", hidden);
        c.put("num_hidden_layers", m.integer(a + "block_count", 1, 1 << 12));
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", m.integer(a + "attention.head_count_kv", 1, heads, heads));
        int headDim = m.integer(a + "attention.key_length", 1, 1 << 12, m.integer(a + "rope.dimension_count", 1, 1 << 12, hidden / heads));
        c.put("head_dim", headDim);
        c.put("intermediate_size", m.integer(a + "feed_forward_length", 1, 1 << 22));
        c.put("max_position_embeddings", m.integer(a + "context_length", 1, Integer.MAX_VALUE));
        c.put("rms_norm_eps", m.number(a + "attention.layer_norm_rms_epsilon", 1e-5));
        c.put("rope_theta", m.number(a + "rope.freq_base", 10000));
        String scaling = m.string(a + "rope.scaling.type", "none");
        switch (scaling) {
            case "none" -> c.putNull("rope_scaling");
            case "linear" -> c.putObject("rope_scaling").put("rope_type", "linear").put("factor", m.number(a + "rope.scaling.factor", 1));
            default -> throw new CortadoException(file.path() + ": GGUF metadata " + a + "rope.scaling.type is '" + GgufFile.shown(scaling)
                    + "'; Cortado supports none, linear and Llama 3 rope_freqs");
        }
        c.put("vocab_size", embd.ne()[1]);
        c.put("hidden_act", "silu");
        c.put("tie_word_embeddings", !file.tensors().containsKey("output.weight"));
        if (arch.equals("qwen2")) c.put("use_sliding_window", false);
        specialIds(m, c);
        return c;
    }

    private ObjectNode gpt2Config(GgufMetadata m, TensorInfo embd) {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.put("model_type", "gpt2");
        c.put("n_embd", m.integer("gpt2.embedding_length", 1, 1 << 20));
        c.put("n_layer", m.integer("gpt2.block_count", 1, 1 << 12));
        c.put("n_head", m.integer("gpt2.attention.head_count", 1, 1 << 12));
        c.put("n_positions", m.integer("gpt2.context_length", 1, Integer.MAX_VALUE));
        if (m.has("gpt2.feed_forward_length")) c.put("n_inner", m.integer("gpt2.feed_forward_length", 1, 1 << 22));
        c.put("layer_norm_epsilon", m.number("gpt2.attention.layer_norm_epsilon", 1e-5));
        c.put("activation_function", "gelu_new");
        c.put("vocab_size", embd.ne()[1]);
        specialIds(m, c);
        return c;
    }

    private static void specialIds(GgufMetadata m, ObjectNode c) {
        if (m.has("tokenizer.ggml.bos_token_id")) c.put("bos_token_id", m.integer("tokenizer.ggml.bos_token_id"));
        if (m.has("tokenizer.ggml.eos_token_id")) c.put("eos_token_id", m.integer("tokenizer.ggml.eos_token_id"));
    }

    public GgufFile file() { return file; }

    public String architecture() { return arch; }

    /** The Hugging Face config.json this file's metadata amounts to. */
    public ObjectNode config() { return config; }

    /**
     * Float tensors by HF name (F32/F16/BF16 in the mapping; quantized untied embeddings dequantized), converted when
     * read; the map is a {@link dev.cortado.tensor.WeightShapes} (shapes without converting).
     */
    public Map<String, Tensor> tensors() { return weights.tensors(); }

    /** Quantized linear weights and token embeddings by HF name ([out, in], rows un-permuted), converted when read. */
    public Map<String, QuantizedMatrix> quantized() { return weights.quantized(); }

    /** Bytes of converted copies alive now (one layer's while a family binds; 0 after {@link #releaseConverted}). */
    public long convertedBytes() { return weights.liveBytes(); }

    /** llama.cpp's rope_freqs factors (Llama 3 scaling: inv_freq[i] / factor[i]), or null. */
    public float[] ropeFreqFactors() { return ropeFreqFactors == null ? null : ropeFreqFactors.clone(); }

    private boolean closed;

    /**
     * Frees the converted copies still alive once a backend has bound every weight: {@code Backend} binds by copying,
     * packing or uploading ({@code weight}, {@code weightTransposed}, {@code linearWeight}, {@code headWeight},
     * {@code quantizedWeight}), so nothing refers to them afterwards. The maps are emptied (a late reader finds no weight
     * rather than freed memory); the file stays mapped (its metadata and tokenizer) until {@link #close}.
     */
    public synchronized void releaseConverted() {
        weights.release();
    }

    /** Frees the converted weights and unmaps the file. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        weights.release();
        file.close();
    }
}
