package dev.cortado.model.bart;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.backend.Backend.Activation;
import dev.cortado.engine.DecoderModel;
import dev.cortado.engine.Seq2SeqModel;
import dev.cortado.layers.DecoderLayer;
import dev.cortado.layers.Embeddings;
import dev.cortado.layers.EncoderLayer;
import dev.cortado.layers.Linear;
import dev.cortado.layers.Mlp;
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

    /** BART/Marian config.json, validated once. */
    record Spec(boolean marian, int d, int encH, int decH, int encLayers, int decLayers, int encFfn, int decFfn, int positions,
                Activation act, boolean scale, int vocab) {
        static Spec of(ModelConfig c) {
            ConfigCheck k = new ConfigCheck(c);
            String type = c.modelType();
            boolean marian = type.equals("marian");
            if (!type.equals("bart") && !marian) throw k.bad("model_type", type, "bart or marian");
            if (k.bool("normalize_before", false)) throw new CortadoException(c.file() + ": pre-norm (normalize_before) BART variants are not supported");
            int d = k.size("d_model", ConfigCheck.MAX_DIM);
            return new Spec(marian, d, k.heads("encoder_attention_heads", d, "d_model", false), k.heads("decoder_attention_heads", d, "d_model", false),
                    k.size("encoder_layers", ConfigCheck.MAX_LAYERS), k.size("decoder_layers", ConfigCheck.MAX_LAYERS),
                    k.size("encoder_ffn_dim", -1, ConfigCheck.MAX_DIM), k.size("decoder_ffn_dim", -1, ConfigCheck.MAX_DIM),
                    k.size("max_position_embeddings", ConfigCheck.MAX_POSITIONS), k.activation("activation_function", "gelu"),
                    k.bool("scale_embedding", false), k.size("vocab_size", -1, ConfigCheck.MAX_VOCAB));
        }
    }

    static Seq2SeqModel build(ModelConfig c, WeightNames w, Backend be, String source) {
        Spec s = Spec.of(c);
        ConfigCheck k = new ConfigCheck(c);
        String type = c.modelType();
        boolean marian = s.marian;
        int d = s.d, encH = s.encH, decH = s.decH, positions = s.positions;
        Activation act = s.act;
        float scale = s.scale ? (float) Math.sqrt(d) : 1f;
        float eps = 1e-5f;
        k.layersMatch("encoder_layers", s.encLayers, w.tensors().keySet(), "model.encoder.layers.", w.source());
        k.layersMatch("decoder_layers", s.decLayers, w.tensors().keySet(), "model.decoder.layers.", w.source());
        {
            String sharedName = w.opt("model.shared.weight") != null ? "model.shared.weight" : "model.encoder.embed_tokens.weight";
            Tensor shared = w.need(sharedName, -1, d);
            long vocab = shared.dim(0);
            if (s.vocab > 0) k.matches("vocab_size", s.vocab, vocab, sharedName);
            Tensor encTok = w.opt("model.encoder.embed_tokens.weight") != null ? w.need("model.encoder.embed_tokens.weight", -1, d) : shared;
            Tensor decTok = w.opt("model.decoder.embed_tokens.weight") != null ? w.need("model.decoder.embed_tokens.weight", vocab, d) : shared;
            int offset = marian ? 0 : 2;
            Tensor encPos = positions(w, "model.encoder.embed_positions.weight", marian, positions, d);
            Tensor decPos = positions(w, "model.decoder.embed_positions.weight", marian, positions, d);
            int encFfn = s.encFfn > 0 ? s.encFfn : w.rowsOf("model.encoder.layers.0.fc1.weight");
            int decFfn = s.decFfn > 0 ? s.decFfn : w.rowsOf("model.decoder.layers.0.fc1.weight");
            List<EncoderLayer> enc = new ArrayList<>();
            for (int l = 0; l < s.encLayers; l++) {
                String p = "model.encoder.layers." + l + ".";
                enc.add(new EncoderLayer(w.fusedMhaProjections(p + "self_attn", encH, d), w.layerNorm(p + "self_attn_layer_norm", eps, d),
                        new Mlp(w.linear(p + "fc1", encFfn, d), null, w.linear(p + "fc2", d, encFfn), act), w.layerNorm(p + "final_layer_norm", eps, d), false));
            }
            List<DecoderLayer> dec = new ArrayList<>();
            for (int l = 0; l < s.decLayers; l++) {
                String p = "model.decoder.layers." + l + ".";
                dec.add(new DecoderLayer(w.fusedMhaProjections(p + "self_attn", decH, d), w.layerNorm(p + "self_attn_layer_norm", eps, d),
                        w.fusedCrossProjections(p + "encoder_attn", decH, d), w.layerNorm(p + "encoder_attn_layer_norm", eps, d),
                        new Mlp(w.linear(p + "fc1", decFfn, d), null, w.linear(p + "fc2", d, decFfn), act), w.layerNorm(p + "final_layer_norm", eps, d), false));
            }
            var encNorm = w.opt("model.encoder.layernorm_embedding.weight") != null ? w.layerNorm("model.encoder.layernorm_embedding", eps, d) : null;
            var decNorm = w.opt("model.decoder.layernorm_embedding.weight") != null ? w.layerNorm("model.decoder.layernorm_embedding", eps, d) : null;
            TransformerEncoder encoder = new TransformerEncoder(new Embeddings(be.weight(encTok), be.weight(encPos), offset, null, encNorm, scale),
                    enc, null, null);
            Tensor head = w.opt("lm_head.weight");
            Tensor bias = w.opt("final_logits_bias");
            Linear lmHead = new Linear(head != null ? w.headWeight("lm_head.weight", vocab, d) : be.headWeight(decTok, false),
                    bias == null ? null : be.weight(w.vector("final_logits_bias", vocab)));
            TransformerDecoder decoder = new TransformerDecoder(new Embeddings(be.weight(decTok), be.weight(decPos), offset, null, decNorm, scale),
                    dec, null, lmHead, 1f, decH, d / decH, positions, null);
             String desc = type + " (" + source + "): " + enc.size() + "+" + dec.size() + " layers, d_model " + d + ", " + encH + " heads, " + act;
            return new Seq2SeqModel(be, encoder, new DecoderModel(be, decoder, desc, null), positions, desc);
        }
    }



    /** Learned table, or Marian's sinusoidal table when the checkpoint does not store it. */
    private static Tensor positions(WeightNames w, String name, boolean marian, int n, int d) {
        int offset = marian ? 0 : 2;
        if (w.opt(name) != null) return w.need(name, (long) n + offset, d);
        if (!marian) return w.need(name);
        if ((long) n * d > Integer.MAX_VALUE - 8) {
            throw new CortadoException(w.source() + ": a sinusoidal position table of max_position_embeddings " + n + " × d_model " + d
                    + " is too large; lower max_position_embeddings");
        }
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
