package dev.cortado.model.bart;

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
 * BART and Marian (a BART variant): post-LayerNorm encoder/decoder; BART has learned positions with offset 2 and
 * a layernorm_embedding, Marian sinusoidal positions and scale_embedding; tied lm_head plus final_logits_bias.
 */
public final class BartFamily {
    private BartFamily() {}

    public static Seq2SeqModel fromSafetensors(Path dir, Backend be) {
        return Seq2SeqSources.safetensors(dir, be, BartFamily::build);
    }

    public static Seq2SeqModel fromOnnx(Path dir, Backend be) {
        return Seq2SeqSources.onnx(dir, be, BartFamily::build);
    }

    static Seq2SeqModel build(ModelConfig c, WeightNames w, Backend be, String source) {
        String type = c.modelType();
        boolean marian = type.equals("marian");
        if (!type.equals("bart") && !marian) throw new CortadoException(c.file() + ": model_type '" + type + "' is not bart or marian");
        if (c.bool("normalize_before", false)) throw new CortadoException(c.file() + ": pre-norm (normalize_before) BART variants are not supported");
        int d = c.integer("d_model"), encH = c.integer("encoder_attention_heads"), decH = c.integer("decoder_attention_heads");
        int positions = c.integer("max_position_embeddings");
        Activation act = WeightNames.activation(c.str("activation_function", "gelu"), c.file().toString());
        float scale = c.bool("scale_embedding", false) ? (float) Math.sqrt(d) : 1f;
        float eps = 1e-5f;
        {
            Tensor shared = w.opt("model.shared.weight") != null ? w.need("model.shared.weight") : w.need("model.encoder.embed_tokens.weight");
            Tensor encTok = w.opt("model.encoder.embed_tokens.weight") != null ? w.need("model.encoder.embed_tokens.weight") : shared;
            Tensor decTok = w.opt("model.decoder.embed_tokens.weight") != null ? w.need("model.decoder.embed_tokens.weight") : shared;
            int offset = marian ? 0 : 2;
            Tensor encPos = positions(w, "model.encoder.embed_positions.weight", marian, positions, d);
            Tensor decPos = positions(w, "model.decoder.embed_positions.weight", marian, positions, d);
            List<EncoderLayer> enc = new ArrayList<>();
            for (int l = 0; l < c.integer("encoder_layers"); l++) {
                String p = "model.encoder.layers." + l + ".";
                enc.add(new EncoderLayer(attention(w, p + "self_attn", encH, d), w.layerNorm(p + "self_attn_layer_norm", eps),
                        new Mlp(w.linear(p + "fc1"), null, w.linear(p + "fc2"), act), w.layerNorm(p + "final_layer_norm", eps), false));
            }
            List<DecoderLayer> dec = new ArrayList<>();
            for (int l = 0; l < c.integer("decoder_layers"); l++) {
                String p = "model.decoder.layers." + l + ".";
                dec.add(new DecoderLayer(attention(w, p + "self_attn", decH, d), w.layerNorm(p + "self_attn_layer_norm", eps),
                        attention(w, p + "encoder_attn", decH, d), w.layerNorm(p + "encoder_attn_layer_norm", eps),
                        new Mlp(w.linear(p + "fc1"), null, w.linear(p + "fc2"), act), w.layerNorm(p + "final_layer_norm", eps), false));
            }
            var encNorm = w.opt("model.encoder.layernorm_embedding.weight") != null ? w.layerNorm("model.encoder.layernorm_embedding", eps) : null;
            var decNorm = w.opt("model.decoder.layernorm_embedding.weight") != null ? w.layerNorm("model.decoder.layernorm_embedding", eps) : null;
            TransformerEncoder encoder = new TransformerEncoder(new Embeddings(be.weight(encTok), be.weight(encPos), offset, null, encNorm, scale),
                    enc, null, null);
            Tensor head = w.opt("lm_head.weight");
            Tensor bias = w.opt("final_logits_bias");
            Linear lmHead = new Linear(head != null ? w.linearWeight("lm_head.weight") : be.weightTransposed(decTok),
                    bias == null ? null : be.weight(bias.reshape(bias.numel())));
            TransformerDecoder decoder = new TransformerDecoder(new Embeddings(be.weight(decTok), be.weight(decPos), offset, null, decNorm, scale),
                    dec, null, lmHead, 1f, decH, d / decH, positions, null);
             String desc = type + " (" + source + "): " + enc.size() + "+" + dec.size() + " layers, d_model " + d + ", " + encH + " heads, " + act;
            return new Seq2SeqModel(be, encoder, new DecoderModel(be, decoder, desc, null), positions, desc);
        }
    }

    private static Attention attention(WeightNames w, String p, int heads, int d) {
        int hd = d / heads;
        return new Attention(w.linear(p + ".q_proj"), w.linear(p + ".k_proj"), w.linear(p + ".v_proj"), w.linear(p + ".out_proj"),
                heads, heads, hd, (float) Math.pow(hd, -0.5), null);
    }

    /** Learned table, or Marian's sinusoidal table when the checkpoint does not store it. */
    private static Tensor positions(WeightNames w, String name, boolean marian, int n, int d) {
        Tensor t = w.opt(name);
        if (t != null) return t;
        if (!marian) return w.need(name);
        float[] out = new float[n * d];
        int sentinel = d % 2 == 0 ? d / 2 : d / 2 + 1;
        for (int pos = 0; pos < n; pos++) {
            for (int j = 0; j < d; j++) {
                double enc = pos / Math.pow(10000, 2.0 * (j / 2) / d);
                if (j % 2 == 0) out[pos * d + j / 2] = (float) Math.sin(enc);
                else out[pos * d + sentinel + j / 2] = (float) Math.cos(enc);
            }
        }
        return Tensor.of(out, n, d);
    }
}
