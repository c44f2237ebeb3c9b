package dev.cortado.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.bench.SafetensorsWriter.Entry;
import dev.cortado.bench.SafetensorsWriter.Init;
import dev.cortado.bench.SafetensorsWriter.Location;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Models with real shapes and seeded random weights, made by the bench (never committed) and cached under
 * {@code $CORTADO_CACHE/synthetic/<name>} (or system property cortado.cache; default {@code ~/.cache/cortado/synthetic}): a Hugging Face folder
 * (config.json + model.safetensors) and, for decoders, {@code model.onnx} in the Optimum decoder layout whose
 * weights are external data pointing into model.safetensors. {@code <name>-smoke} is the same family at 2 layers,
 * hidden 64. Context lengths are capped at 1024 positions (Cortado preallocates its KV cache at the model's context).
 */
public final class SyntheticModels {
    private SyntheticModels() {}

    /** Bump when the generated files change, so caches regenerate. */
    static final int VERSION = 2;
    static final long SEED = 20240611L;

    public enum Family { GPT2, LLAMA, QWEN2, MARIAN, T5, BERT }

    /** Shape of a synthetic model. headDim = hidden / heads. */
    public record Spec(String name, Family family, int hidden, int layers, int heads, int kvHeads, int inter, int vocab,
                       int maxPos, double ropeTheta, boolean llama3Rope, double eps) {
        public int headDim() { return hidden / heads; }
        public boolean decoderOnly() { return family == Family.GPT2 || family == Family.LLAMA || family == Family.QWEN2; }
        public boolean tied() { return true; }
    }

    static final List<Spec> BASE = List.of(
            new Spec("gpt2-124m", Family.GPT2, 768, 12, 12, 12, 3072, 50257, 1024, 0, false, 1e-5),
            new Spec("llama-3.2-1b", Family.LLAMA, 2048, 16, 32, 8, 8192, 128256, 1024, 500000, true, 1e-5),
            new Spec("qwen2-0.5b", Family.QWEN2, 896, 24, 14, 2, 4864, 151936, 1024, 1000000, false, 1e-6),
            new Spec("marian-base", Family.MARIAN, 512, 6, 8, 8, 2048, 58101, 512, 0, false, 1e-5),
            new Spec("t5-base", Family.T5, 768, 12, 12, 12, 3072, 32128, 512, 0, false, 1e-6),
            new Spec("bert-base", Family.BERT, 768, 12, 12, 12, 3072, 30522, 512, 0, false, 1e-12));

    public static List<String> names() {
        List<String> n = new ArrayList<>();
        for (Spec s : BASE) {
            n.add(s.name());
            n.add(s.name() + "-smoke");
        }
        return n;
    }

    public static Spec spec(String name) {
        boolean smoke = name.endsWith("-smoke");
        String base = smoke ? name.substring(0, name.length() - 6) : name;
        for (Spec s : BASE) {
            if (!s.name().equals(base)) continue;
            if (!smoke) return s;
            int kv = s.kvHeads() == s.heads() ? 4 : 2;
            return new Spec(name, s.family(), 64, 2, 4, kv, s.family() == Family.LLAMA || s.family() == Family.QWEN2 ? 172 : 256,
                    1024, 128, s.ropeTheta() == 0 ? 0 : 10000, s.llama3Rope(), s.eps());
        }
        throw new CortadoException("unknown synthetic model '" + name + "' (available: " + String.join(", ", names()) + ")");
    }

    public static Path cacheRoot() {
        String env = System.getProperty("cortado.cache", System.getenv("CORTADO_CACHE"));
        Path root = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "cortado");
        return root.resolve("synthetic");
    }

    /** The model's folder, generated on first use (or when the generator version changed). */
    public static Path materialize(String name, Path root) {
        return materialize(spec(name), root);
    }

    /** The folder of any spec (tests: shapes of their own), named after it, generated on first use. */
    static Path materialize(Spec s, Path root) {
        String name = s.name();
        Path dir = root.resolve(name);
        Path marker = dir.resolve(".complete");
        String stamp = "cortado synthetic v" + VERSION + " seed " + SEED + " " + s;
        try {
            if (Files.isRegularFile(marker) && Files.readString(marker).equals(stamp)) return dir;
            Files.createDirectories(dir);
            Files.deleteIfExists(marker);
            List<Entry> entries = tensors(s);
            Path tmp = dir.resolve("model.safetensors.tmp");
            Map<String, Location> where = SafetensorsWriter.write(tmp, entries, SEED,
                    Map.of("format", "pt", "cortado_synthetic", name));
            Files.move(tmp, dir.resolve("model.safetensors"), StandardCopyOption.REPLACE_EXISTING);
            ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            Files.writeString(dir.resolve("config.json"), om.writeValueAsString(config(s, om)));
            if (s.decoderOnly()) {
                Files.write(dir.resolve("model.onnx"), DecoderOnnx.build(s, entries, where, "model.safetensors"));
            }
            Files.writeString(marker, stamp);
            return dir;
        } catch (IOException e) {
            throw new CortadoException("cannot write synthetic model " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Bytes of weights read by one decode step (all parameters except gathered-only tables). */
    public static long weightBytesPerStep(Spec s) {
        long n = 0;
        for (Entry e : tensors(s)) {
            if (e.name().equals("wpe.weight")) continue;
            n += e.numel();
        }
        return 4 * n;
    }

    public static long parameters(Spec s) {
        long n = 0;
        for (Entry e : tensors(s)) n += e.numel();
        return n;
    }

    static List<Entry> tensors(Spec s) {
        List<Entry> t = new ArrayList<>();
        int h = s.hidden(), f = s.inter(), v = s.vocab(), kvDim = s.kvHeads() * s.headDim();
        switch (s.family()) {
            case GPT2 -> {
                rnd(t, "wte.weight", v, h);
                t.add(new Entry("wpe.weight", new long[] {s.maxPos(), h}, Init.random(0.01)));
                for (int l = 0; l < s.layers(); l++) {
                    String p = "h." + l + ".";
                    ln(t, p + "ln_1", h, true);
                    rnd(t, p + "attn.c_attn.weight", h, 3 * h);
                    rnd(t, p + "attn.c_attn.bias", 3 * h);
                    rnd(t, p + "attn.c_proj.weight", h, h);
                    rnd(t, p + "attn.c_proj.bias", h);
                    ln(t, p + "ln_2", h, true);
                    rnd(t, p + "mlp.c_fc.weight", h, f);
                    rnd(t, p + "mlp.c_fc.bias", f);
                    rnd(t, p + "mlp.c_proj.weight", f, h);
                    rnd(t, p + "mlp.c_proj.bias", h);
                }
                ln(t, "ln_f", h, true);
            }
            case LLAMA, QWEN2 -> {
                boolean bias = s.family() == Family.QWEN2;
                rnd(t, "model.embed_tokens.weight", v, h);
                for (int l = 0; l < s.layers(); l++) {
                    String p = "model.layers." + l + ".";
                    ln(t, p + "input_layernorm", h, false);
                    lin(t, p + "self_attn.q_proj", h, h, bias);
                    lin(t, p + "self_attn.k_proj", kvDim, h, bias);
                    lin(t, p + "self_attn.v_proj", kvDim, h, bias);
                    lin(t, p + "self_attn.o_proj", h, h, false);
                    ln(t, p + "post_attention_layernorm", h, false);
                    lin(t, p + "mlp.gate_proj", f, h, false);
                    lin(t, p + "mlp.up_proj", f, h, false);
                    lin(t, p + "mlp.down_proj", h, f, false);
                }
                ln(t, "model.norm", h, false);
            }
            case MARIAN -> {
                rnd(t, "model.shared.weight", v, h);
                t.add(new Entry("final_logits_bias", new long[] {1, v}, Init.constant(0)));
                for (String side : new String[] {"encoder", "decoder"}) {
                    for (int l = 0; l < s.layers(); l++) {
                        String p = "model." + side + ".layers." + l + ".";
                        attn(t, p + "self_attn", h);
                        ln(t, p + "self_attn_layer_norm", h, true);
                        if (side.equals("decoder")) {
                            attn(t, p + "encoder_attn", h);
                            ln(t, p + "encoder_attn_layer_norm", h, true);
                        }
                        lin(t, p + "fc1", f, h, true);
                        lin(t, p + "fc2", h, f, true);
                        ln(t, p + "final_layer_norm", h, true);
                    }
                }
            }
            case T5 -> {
                rnd(t, "shared.weight", v, h);
                for (String side : new String[] {"encoder", "decoder"}) {
                    for (int l = 0; l < s.layers(); l++) {
                        String p = side + ".block." + l + ".layer.";
                        t5attn(t, p + "0.SelfAttention", h, l == 0, s.heads());
                        ln(t, p + "0.layer_norm", h, false);
                        int ff = 1;
                        if (side.equals("decoder")) {
                            t5attn(t, p + "1.EncDecAttention", h, false, s.heads());
                            ln(t, p + "1.layer_norm", h, false);
                            ff = 2;
                        }
                        rnd(t, p + ff + ".DenseReluDense.wi.weight", f, h);
                        rnd(t, p + ff + ".DenseReluDense.wo.weight", h, f);
                        ln(t, p + ff + ".layer_norm", h, false);
                    }
                    ln(t, side + ".final_layer_norm", h, false);
                }
            }
            case BERT -> {
                rnd(t, "embeddings.word_embeddings.weight", v, h);
                rnd(t, "embeddings.position_embeddings.weight", s.maxPos(), h);
                rnd(t, "embeddings.token_type_embeddings.weight", 2, h);
                ln(t, "embeddings.LayerNorm", h, true);
                for (int l = 0; l < s.layers(); l++) {
                    String p = "encoder.layer." + l + ".";
                    lin(t, p + "attention.self.query", h, h, true);
                    lin(t, p + "attention.self.key", h, h, true);
                    lin(t, p + "attention.self.value", h, h, true);
                    lin(t, p + "attention.output.dense", h, h, true);
                    ln(t, p + "attention.output.LayerNorm", h, true);
                    lin(t, p + "intermediate.dense", f, h, true);
                    lin(t, p + "output.dense", h, f, true);
                    ln(t, p + "output.LayerNorm", h, true);
                }
                lin(t, "pooler.dense", h, h, true);
            }
        }
        return t;
    }

    private static void rnd(List<Entry> t, String name, long... shape) {
        t.add(new Entry(name, shape, Init.random(0.02)));
    }

    private static void lin(List<Entry> t, String p, int out, int in, boolean bias) {
        rnd(t, p + ".weight", out, in);
        if (bias) rnd(t, p + ".bias", out);
    }

    private static void ln(List<Entry> t, String p, int h, boolean bias) {
        t.add(new Entry(p + ".weight", new long[] {h}, Init.constant(1f)));
        if (bias) rnd(t, p + ".bias", h);
    }

    private static void attn(List<Entry> t, String p, int h) {
        for (String x : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) lin(t, p + "." + x, h, h, true);
    }

    private static void t5attn(List<Entry> t, String p, int h, boolean relBias, int heads) {
        for (String x : new String[] {"q", "k", "v", "o"}) rnd(t, p + "." + x + ".weight", h, h);
        if (relBias) rnd(t, p + ".relative_attention_bias.weight", 32, heads);
    }

    static ObjectNode config(Spec s, ObjectMapper om) {
        ObjectNode c = om.createObjectNode();
        switch (s.family()) {
            case GPT2 -> {
                c.putArray("architectures").add("GPT2LMHeadModel");
                c.put("model_type", "gpt2").put("vocab_size", s.vocab()).put("n_positions", s.maxPos()).put("n_ctx", s.maxPos())
                        .put("n_embd", s.hidden()).put("n_layer", s.layers()).put("n_head", s.heads()).putNull("n_inner");
                c.put("activation_function", "gelu_new").put("layer_norm_epsilon", s.eps()).put("resid_pdrop", 0.0)
                        .put("embd_pdrop", 0.0).put("attn_pdrop", 0.0).put("scale_attn_weights", true)
                        .put("tie_word_embeddings", true).put("bos_token_id", 0).put("eos_token_id", 0);
            }
            case LLAMA, QWEN2 -> {
                boolean q = s.family() == Family.QWEN2;
                c.putArray("architectures").add(q ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
                c.put("model_type", q ? "qwen2" : "llama").put("vocab_size", s.vocab()).put("hidden_size", s.hidden())
                        .put("intermediate_size", s.inter()).put("num_hidden_layers", s.layers())
                        .put("num_attention_heads", s.heads()).put("num_key_value_heads", s.kvHeads())
                        .put("head_dim", s.headDim()).put("max_position_embeddings", s.maxPos())
                        .put("rms_norm_eps", s.eps()).put("rope_theta", s.ropeTheta()).put("hidden_act", "silu")
                        .put("attention_bias", false).put("mlp_bias", false).put("tie_word_embeddings", true)
                        .put("bos_token_id", 0).put("eos_token_id", 1);
                if (s.llama3Rope()) {
                    c.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 32.0).put("low_freq_factor", 1.0)
                            .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192);
                } else {
                    c.putNull("rope_scaling");
                }
                if (q) c.put("use_sliding_window", false).put("max_window_layers", s.layers());
            }
            case MARIAN -> {
                c.putArray("architectures").add("MarianMTModel");
                c.put("model_type", "marian").put("vocab_size", s.vocab()).put("decoder_vocab_size", s.vocab())
                        .put("d_model", s.hidden()).put("encoder_layers", s.layers()).put("decoder_layers", s.layers())
                        .put("encoder_attention_heads", s.heads()).put("decoder_attention_heads", s.heads())
                        .put("encoder_ffn_dim", s.inter()).put("decoder_ffn_dim", s.inter())
                        .put("max_position_embeddings", s.maxPos()).put("activation_function", "swish")
                        .put("scale_embedding", true).put("static_position_embeddings", true)
                        .put("share_encoder_decoder_embeddings", true).put("tie_word_embeddings", true)
                        .put("pad_token_id", s.vocab() - 1).put("eos_token_id", 0)
                        .put("decoder_start_token_id", s.vocab() - 1).put("forced_eos_token_id", 0);
            }
            case T5 -> {
                c.putArray("architectures").add("T5ForConditionalGeneration");
                c.put("model_type", "t5").put("vocab_size", s.vocab()).put("d_model", s.hidden()).put("d_kv", s.headDim())
                        .put("d_ff", s.inter()).put("num_layers", s.layers()).put("num_decoder_layers", s.layers())
                        .put("num_heads", s.heads()).put("relative_attention_num_buckets", 32)
                        .put("relative_attention_max_distance", 128).put("layer_norm_epsilon", s.eps())
                        .put("feed_forward_proj", "relu").put("tie_word_embeddings", true)
                        .put("pad_token_id", 0).put("eos_token_id", 1).put("decoder_start_token_id", 0);
            }
            case BERT -> {
                c.putArray("architectures").add("BertModel");
                c.put("model_type", "bert").put("vocab_size", s.vocab()).put("hidden_size", s.hidden())
                        .put("num_hidden_layers", s.layers()).put("num_attention_heads", s.heads())
                        .put("intermediate_size", s.inter()).put("hidden_act", "gelu")
                        .put("max_position_embeddings", s.maxPos()).put("type_vocab_size", 2)
                        .put("layer_norm_eps", s.eps()).put("pad_token_id", 0);
            }
        }
        c.put("torch_dtype", "float32").put("cortado_synthetic", s.name());
        return c;
    }
}
