package dev.cortado.gguf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.gguf.GgufFile.TensorInfo;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A GGUF model seen as a Hugging Face one, so the families read it with the code they use for safetensors: a
 * config.json built from {@code <arch>.*} metadata, tensors renamed to HF parameter names (llama.cpp's
 * convert_hf_to_gguf.py mapping reversed), llama.cpp's Q/K row permutation undone (llama, mistral), and linear
 * weights that are quantized kept as {@link QuantizedMatrix} (lossless) for {@code Backend.quantizedWeight}. Other
 * quantized tensors (embeddings) are dequantized to float32; float tensors stay in the mapping (F32, F16, BF16).
 * Llama 3 rope scaling comes as llama.cpp writes it: the {@code rope_freqs.weight} factors.
 */
public final class GgufModel implements AutoCloseable {
    public static final Set<String> ARCHITECTURES = Set.of("llama", "mistral", "qwen2", "gpt2");

    private final GgufFile file;
    private final String arch;
    private final ObjectNode config;
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Map<String, QuantizedMatrix> quantized = new LinkedHashMap<>();
    private final float[] ropeFreqFactors;
    private final Arena arena = Arena.ofShared();

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
        ropeFreqFactors = rf == null ? null : GgufTensors.tensor(rf, arena).toFloatArray();
        try {
            for (TensorInfo t : f.tensors().values()) {
                if (t.name().equals("rope_freqs.weight")) continue;
                String hf = hfName(t.name());
                if (hf == null) continue; // not part of the families' weights
                bind(hf, t);
            }
            if (!f.tensors().containsKey("output.weight") && quantized.containsKey(embedName())) {
                quantized.put("lm_head.weight", quantized.get(embedName())); // tied: the same quantized matrix, as llama.cpp does
            }
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Reads the file's architecture, config and weights; the model keeps the file mapped until closed. */
    public static GgufModel load(GgufFile f) {
        return new GgufModel(f);
    }

    private String embedName() {
        return arch.equals("gpt2") ? "wte.weight" : "model.embed_tokens.weight";
    }

    private void bind(String hf, TensorInfo t) {
        boolean linear = hf.endsWith("_proj.weight") || hf.equals("lm_head.weight") || hf.matches(".*\\.(c_attn|c_proj|c_fc)\\.weight");
        boolean permute = !arch.equals("gpt2") && !arch.equals("qwen2");
        int heads = config.path("num_attention_heads").asInt(), kv = config.path("num_key_value_heads").asInt(heads);
        int permHeads = !permute ? 0 : hf.matches(".*q_proj\\.(weight|bias)") ? heads : hf.matches(".*k_proj\\.(weight|bias)") ? kv : 0;
        boolean tiedEmbedding = hf.equals(embedName()) && !file.tensors().containsKey("output.weight");
        if (GgufTensors.isQuantized(t.type()) && (linear || tiedEmbedding)) {
            QuantizedMatrix q = GgufTensors.quantized(t, arena);
            if (permHeads > 0) q = unpermute(q, permHeads, t.name());
            quantized.put(hf, q); // a tied embedding also serves as the (quantized) lm_head
            if (!linear) tensors.put(hf, dequantized(q));
            return;
        }
        Tensor x = GgufTensors.tensor(t, arena);
        tensors.put(hf, permHeads > 0 ? unpermute(x, permHeads, t.name()) : x);
    }

    private Tensor dequantized(QuantizedMatrix q) {
        Tensor out = Tensor.allocate(arena, DType.F32, q.rows(), q.cols());
        long i = 0;
        for (int r = 0; r < q.rows(); r++) for (int c = 0; c < q.cols(); c++) out.data().setAtIndex(Tensor.F32_LE, i++, q.get(r, c));
        return out;
    }

    /** HF row of GGUF row {@code g}: llama.cpp stores each head's rows interleaved (LlamaModel.permute); this undoes it. */
    static int hfRow(int g, int headDim) {
        int h = g / headDim, k = g % headDim, half = headDim / 2;
        return h * headDim + (k & 1) * half + (k >> 1);
    }

    private static void checkHeads(long rows, int heads, String name) {
        if (heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0) {
            throw new CortadoException("tensor '" + GgufFile.shown(name) + "' has " + rows + " rows, which " + heads + " heads of even size do not divide");
        }
    }

    private QuantizedMatrix unpermute(QuantizedMatrix q, int heads, String name) {
        checkHeads(q.rows(), heads, name);
        int hd = q.rows() / heads;
        long rowBytes = (long) q.cols() * q.bits() / 8, rowScales = q.blocksPerRow() * 4L;
        MemorySegment v = arena.allocate(q.values().byteSize(), 64), s = arena.allocate(q.scales().byteSize(), 64);
        MemorySegment o = q.offsets() == null ? null : arena.allocate(q.offsets().byteSize(), 64);
        for (int g = 0; g < q.rows(); g++) {
            int r = hfRow(g, hd);
            MemorySegment.copy(q.values(), g * rowBytes, v, r * rowBytes, rowBytes);
            MemorySegment.copy(q.scales(), g * rowScales, s, r * rowScales, rowScales);
            if (o != null) MemorySegment.copy(q.offsets(), g * rowScales, o, r * rowScales, rowScales);
        }
        return new QuantizedMatrix(q.rows(), q.cols(), q.bits(), q.blockSize(), v, s, o);
    }

    private Tensor unpermute(Tensor t, int heads, String name) {
        long rows = t.dim(0), cols = t.rank() == 1 ? 1 : t.dim(1);
        checkHeads(rows, heads, name);
        int hd = (int) (rows / heads);
        long rowBytes = cols * t.dtype().byteSize();
        MemorySegment out = arena.allocate(t.data().byteSize(), 64);
        for (int g = 0; g < rows; g++) MemorySegment.copy(t.data(), g * rowBytes, out, hfRow(g, hd) * rowBytes, rowBytes);
        return new Tensor(t.dtype(), t.shape(), out);
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

    /** Float tensors by HF name (F32/F16/BF16 in the mapping; quantized embeddings dequantized). */
    public Map<String, Tensor> tensors() { return tensors; }

    /** Quantized linear weights by HF name ([out, in], rows un-permuted). */
    public Map<String, QuantizedMatrix> quantized() { return quantized; }

    /** llama.cpp's rope_freqs factors (Llama 3 scaling: inv_freq[i] / factor[i]), or null. */
    public float[] ropeFreqFactors() { return ropeFreqFactors == null ? null : ropeFreqFactors.clone(); }

    /** Frees the converted weights and unmaps the file. */
    private boolean closed, released;

    /**
     * Frees the converted copies (quantized matrices in the canonical layout, dequantized and un-permuted tensors) once a
     * backend has bound every weight: {@code Backend} binds by copying, packing or uploading ({@code weight},
     * {@code weightTransposed}, {@code linearWeight}, {@code headWeight}, {@code quantizedWeight}), so nothing refers to them
     * afterwards. The maps are emptied (a late reader finds no weight rather than freed memory); the file stays mapped
     * (its metadata and tokenizer) until {@link #close}.
     */
    public synchronized void releaseConverted() {
        if (closed || released) return;
        released = true;
        tensors.clear();
        quantized.clear();
        arena.close();
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (!released) arena.close();
        file.close();
    }
}
