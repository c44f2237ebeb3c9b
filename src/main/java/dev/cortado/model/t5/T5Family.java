package dev.cortado.model.t5;

import dev.cortado.CortadoException;
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

    static Seq2SeqModel build(ModelConfig c, WeightNames w, Backend be, String source) {
        int d = c.integer("d_model"), dkv = c.integer("d_kv"), heads = c.integer("num_heads");
        int encLayers = c.integer("num_layers"), decLayers = c.integer("num_decoder_layers", encLayers);
        float eps = (float) c.number("layer_norm_epsilon", 1e-6);
        String ff = c.str("feed_forward_proj", "relu");
        boolean gated = ff.startsWith("gated-");
        Activation act = WeightNames.activation(gated ? ff.substring(6).replace("gelu", "gelu_new") : ff, c.file().toString());
        int buckets = c.integer("relative_attention_num_buckets", 32), maxDist = c.integer("relative_attention_max_distance", 128);
        boolean tied = c.bool("tie_word_embeddings", true);
        {
            Tensor shared = w.opt("shared.weight") != null ? w.need("shared.weight") : w.need("encoder.embed_tokens.weight");
            Tensor emb = be.weight(shared);
            List<EncoderLayer> enc = new ArrayList<>();
            for (int l = 0; l < encLayers; l++) {
                String p = "encoder.block." + l + ".layer.";
                enc.add(new EncoderLayer(attention(w, p + "0.SelfAttention", heads, dkv), w.rmsNorm(p + "0.layer_norm.weight", eps),
                        mlp(w, p + "1.DenseReluDense", gated, act), w.rmsNorm(p + "1.layer_norm.weight", eps), true));
            }
            RelativePositionBias encBias = bias(w, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", buckets, maxDist, heads, true);
            TransformerEncoder encoder = new TransformerEncoder(new Embeddings(emb, null, 0, null, null, 1f), enc,
                    w.rmsNorm("encoder.final_layer_norm.weight", eps), encBias);
            List<DecoderLayer> dec = new ArrayList<>();
            for (int l = 0; l < decLayers; l++) {
                String p = "decoder.block." + l + ".layer.";
                dec.add(new DecoderLayer(attention(w, p + "0.SelfAttention", heads, dkv), w.rmsNorm(p + "0.layer_norm.weight", eps),
                        attention(w, p + "1.EncDecAttention", heads, dkv), w.rmsNorm(p + "1.layer_norm.weight", eps),
                        mlp(w, p + "2.DenseReluDense", gated, act), w.rmsNorm(p + "2.layer_norm.weight", eps), true));
            }
            RelativePositionBias decBias = bias(w, "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", buckets, maxDist, heads, false);
            Tensor head = w.opt("lm_head.weight");
            Linear lmHead = new Linear(tied || head == null ? be.weightTransposed(shared) : w.linearWeight("lm_head.weight"), null);
            int context = c.integer("n_positions", 512);
            TransformerDecoder decoder = new TransformerDecoder(new Embeddings(emb, null, 0, null, null, 1f), dec,
                    w.rmsNorm("decoder.final_layer_norm.weight", eps), lmHead, tied ? (float) Math.pow(d, -0.5) : 1f,
                    heads, dkv, context, decBias);
            String desc = "t5 (" + source + ", " + ff + (tied ? ", tied" : "") + "): " + encLayers + "+" + decLayers + " layers, d_model " + d + ", " + heads + " heads";
            return new Seq2SeqModel(be, encoder, new DecoderModel(be, decoder, desc, null), context, desc);
        }
    }

    private static Attention attention(WeightNames w, String p, int heads, int dkv) {
        return new Attention(w.linear(p + ".q"), w.linear(p + ".k"), w.linear(p + ".v"), w.linear(p + ".o"), heads, heads, dkv, 1f, null);
    }

    private static Mlp mlp(WeightNames w, String p, boolean gated, Activation act) {
        if (gated) return new Mlp(w.linear(p + ".wi_1"), w.linear(p + ".wi_0"), w.linear(p + ".wo"), act);
        return new Mlp(w.linear(p + ".wi"), null, w.linear(p + ".wo"), act);
    }

    private static RelativePositionBias bias(WeightNames w, String name, int buckets, int maxDist, int heads, boolean bidi) {
        Tensor t = w.need(name);
        if (t.dim(0) != buckets || t.dim(1) != heads) {
            throw new CortadoException(name + " has shape " + java.util.Arrays.toString(t.shape()) + ", expected [" + buckets + ", " + heads + "]");
        }
        return new RelativePositionBias(t.toFloatArray(), buckets, maxDist, heads, bidi);
    }
}
