package dev.cortado.model.t5;

import dev.cortado.backend.Backend;
import dev.cortado.backend.Backend.Activation;
import dev.cortado.engine.DecoderModel;
import dev.cortado.engine.Seq2SeqModel;
import dev.cortado.layers.Attention;
import dev.cortado.layers.DecoderLayer;
import dev.cortado.layers.Embeddings;
import dev.cortado.layers.EncoderLayer;
import dev.cortado.layers.Linear;
import dev.cortado.layers.Mlp;
import dev.cortado.layers.RelativePositionBias;
import dev.cortado.layers.TransformerDecoder;
import dev.cortado.layers.TransformerEncoder;
import dev.cortado.model.ConfigCheck;
import dev.cortado.model.ModelConfig;
import dev.cortado.model.Seq2SeqSources;
import dev.cortado.model.WeightNames;
import dev.cortado.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * T5 family (t5 v1.0 ReLU, t5 v1.1 / flan-T5 gated-GELU): T5 RMS layer norm, relative position buckets owned by
 * layer 0 (bidirectional in the encoder, causal in the decoder), no 1/sqrt(d) attention scaling, tied lm_head
 * scaled by d_model^-0.5. Spec + weight map only; the forward pass is the shared encoder/decoder.
 */
public final class T5Family {
    private T5Family() {}

    public static Seq2SeqModel fromSafetensors(Path dir, Backend be) {
        return Seq2SeqSources.safetensors(dir, be, T5Family::build);
    }

    public static Seq2SeqModel fromOnnx(Path dir, Backend be) {
        return Seq2SeqSources.onnx(dir, be, T5Family::build);
    }

    /** T5's config.json, validated once: dims, heads, layers, norm epsilon, feed-forward activation, position buckets. */
    record Spec(int d, int dkv, int heads, int dff, int encLayers, int decLayers, float eps, String ff, boolean gated,
                Activation act, int buckets, int maxDist, boolean tied, int vocab, int context) {
        static Spec of(ModelConfig c) {
            ConfigCheck k = new ConfigCheck(c);
            int d = k.size("d_model", ConfigCheck.MAX_DIM), dkv = k.size("d_kv", ConfigCheck.MAX_DIM);
            int heads = k.size("num_heads", ConfigCheck.MAX_HEADS);
            if ((long) heads * dkv > ConfigCheck.MAX_DIM) throw k.bad("num_heads", heads, "≤ " + ConfigCheck.MAX_DIM / dkv + " (num_heads × d_kv " + dkv + ")");
            int enc = k.size("num_layers", ConfigCheck.MAX_LAYERS);
            String ff = k.choice("feed_forward_proj", "relu", FEED_FORWARD);
            boolean gated = ff.startsWith("gated-");
            String actName = gated ? ff.substring(6) : ff;
            // transformers: "gated-gelu" means gelu_new (tanh); plain "gelu" is the erf GELU
            Activation act = ConfigCheck.ACTIVATIONS.get(gated && actName.equals("gelu") ? "gelu_new" : actName);
            return new Spec(d, dkv, heads, k.size("d_ff", ConfigCheck.MAX_DIM), enc, k.size("num_decoder_layers", enc, ConfigCheck.MAX_LAYERS),
                    (float) k.positive("layer_norm_epsilon", 1e-6), ff, gated, act,
                    k.size("relative_attention_num_buckets", 32, ConfigCheck.MAX_POSITIONS),
                    k.size("relative_attention_max_distance", 128, ConfigCheck.MAX_POSITIONS), k.bool("tie_word_embeddings", true),
                    k.size("vocab_size", -1, ConfigCheck.MAX_VOCAB), k.size("n_positions", 512, ConfigCheck.MAX_POSITIONS));
        }
    }

    /** feed_forward_proj values: an activation, optionally "gated-" (kept with the other activation names). */
    public static final java.util.Set<String> FEED_FORWARD = ConfigCheck.FEED_FORWARD;

    static Seq2SeqModel build(ModelConfig c, WeightNames w, Backend be, String source) {
        Spec s = Spec.of(c);
        ConfigCheck k = new ConfigCheck(c);
        int d = s.d, heads = s.heads, dkv = s.dkv;
        float eps = s.eps;
        k.layersMatch("num_layers", s.encLayers, w.tensors().keySet(), "encoder.block.", w.source());
        k.layersMatch("num_decoder_layers", s.decLayers, w.tensors().keySet(), "decoder.block.", w.source());
        {
            String sharedName = w.opt("shared.weight") != null ? "shared.weight" : "encoder.embed_tokens.weight";
            Tensor shared = w.need(sharedName, -1, d);
            if (s.vocab > 0) k.matches("vocab_size", s.vocab, shared.dim(0), sharedName);
            Tensor emb = be.weight(shared);
            List<EncoderLayer> enc = new ArrayList<>();
            for (int l = 0; l < s.encLayers; l++) {
                String p = "encoder.block." + l + ".layer.";
                enc.add(new EncoderLayer(selfAttention(w, p + "0.SelfAttention", s), w.rmsNorm(p + "0.layer_norm.weight", eps, d),
                        mlp(w, p + "1.DenseReluDense", s), w.rmsNorm(p + "1.layer_norm.weight", eps, d), true));
            }
            RelativePositionBias encBias = bias(w, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", s, true);
            TransformerEncoder encoder = new TransformerEncoder(new Embeddings(emb, null, 0, null, null, 1f), enc,
                    w.rmsNorm("encoder.final_layer_norm.weight", eps, d), encBias);
            List<DecoderLayer> dec = new ArrayList<>();
            for (int l = 0; l < s.decLayers; l++) {
                String p = "decoder.block." + l + ".layer.";
                dec.add(new DecoderLayer(selfAttention(w, p + "0.SelfAttention", s), w.rmsNorm(p + "0.layer_norm.weight", eps, d),
                        crossAttention(w, p + "1.EncDecAttention", s), w.rmsNorm(p + "1.layer_norm.weight", eps, d),
                        mlp(w, p + "2.DenseReluDense", s), w.rmsNorm(p + "2.layer_norm.weight", eps, d), true));
            }
            RelativePositionBias decBias = bias(w, "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", s, false);
            Tensor head = w.opt("lm_head.weight");
            Linear lmHead = new Linear(s.tied || head == null ? be.headWeight(shared, false) : w.headWeight("lm_head.weight", shared.dim(0), d), null);
            int context = s.context;
            TransformerDecoder decoder = new TransformerDecoder(new Embeddings(emb, null, 0, null, null, 1f), dec,
                    w.rmsNorm("decoder.final_layer_norm.weight", eps, d), lmHead, s.tied ? (float) Math.pow(d, -0.5) : 1f,
                    heads, dkv, context, decBias);
            String desc = "t5 (" + source + ", " + s.ff + (s.tied ? ", tied" : "") + "): " + s.encLayers + "+" + s.decLayers + " layers, d_model " + d + ", " + heads + " heads";
            return new Seq2SeqModel(be, encoder, new DecoderModel(be, decoder, desc, null), context, desc);
        }
    }

    /** Self-attention: q|k|v concatenated at load (one GEMM). */
    private static Attention selfAttention(WeightNames w, String p, Spec s) {
        int inner = s.heads * s.dkv;
        Linear qkv = w.fusedLinear(s.d, p + ".q", inner, p + ".k", inner, p + ".v", inner);
        if (qkv == null) return attention(w, p, s);
        return Attention.fused(qkv, w.linear(p + ".o", s.d, inner), s.heads, s.heads, s.dkv, 1f, null);
    }

    /** Cross-attention: k|v concatenated at load (one GEMM over the encoder output). */
    private static Attention crossAttention(WeightNames w, String p, Spec s) {
        int inner = s.heads * s.dkv;
        Linear kv = w.fusedLinear(s.d, p + ".k", inner, p + ".v", inner);
        if (kv == null) return attention(w, p, s);
        return Attention.crossFused(w.linear(p + ".q", inner, s.d), kv, w.linear(p + ".o", s.d, inner), s.heads, s.heads, s.dkv, 1f);
    }

    private static Attention attention(WeightNames w, String p, Spec s) {
        int inner = s.heads * s.dkv;
        return new Attention(w.linear(p + ".q", inner, s.d), w.linear(p + ".k", inner, s.d), w.linear(p + ".v", inner, s.d),
                w.linear(p + ".o", s.d, inner), s.heads, s.heads, s.dkv, 1f, null);
    }

    private static Mlp mlp(WeightNames w, String p, Spec s) {
        if (s.gated) {
            Linear gateUp = w.fusedLinear(s.d, p + ".wi_0", s.dff, p + ".wi_1", s.dff);   // gate (wi_0) | up (wi_1), one GEMM
            if (gateUp != null) return Mlp.fused(gateUp, w.linear(p + ".wo", s.d, s.dff), s.act);
            return new Mlp(w.linear(p + ".wi_1", s.dff, s.d), w.linear(p + ".wi_0", s.dff, s.d), w.linear(p + ".wo", s.d, s.dff), s.act);
        }
        return new Mlp(w.linear(p + ".wi", s.dff, s.d), null, w.linear(p + ".wo", s.d, s.dff), s.act);
    }

    private static RelativePositionBias bias(WeightNames w, String name, Spec s, boolean bidi) {
        Tensor t = w.need(name, s.buckets, s.heads);
        return new RelativePositionBias(t.toFloatArray(), s.buckets, s.maxDist, s.heads, bidi);
    }
}
