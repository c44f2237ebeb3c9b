package dev.cortado.model.whisper;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.backend.Backend.Activation;
import dev.cortado.engine.DecoderModel;
import dev.cortado.engine.Seq2SeqModel;
import dev.cortado.layers.Attention;
import dev.cortado.layers.Conv1d;
import dev.cortado.layers.DecoderLayer;
import dev.cortado.layers.Embeddings;
import dev.cortado.layers.EncoderLayer;
import dev.cortado.layers.Linear;
import dev.cortado.layers.Mlp;
import dev.cortado.layers.TransformerDecoder;
import dev.cortado.layers.TransformerEncoder;
import dev.cortado.model.ModelConfig;
import dev.cortado.model.Seq2SeqTracer;
import dev.cortado.model.WeightNames;
import dev.cortado.safetensors.Safetensors;
import dev.cortado.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Whisper = spec + weight map: a conv stem (conv1 k3 + GELU, conv2 k3 stride 2 + GELU) and learned (sinusoid-
 * initialized) positions before a pre-LayerNorm encoder; a pre-LayerNorm decoder with learned positions, cross-
 * attention and the output head tied to the token embeddings (proj_out). k_proj has no bias.
 */
public final class WhisperFamily {
    private WhisperFamily() {}

    public static WhisperModel fromSafetensors(Path dir, Backend be) {
        WhisperConfig c = WhisperConfig.load(dir);
        if (!Files.isRegularFile(dir.resolve("model.safetensors")) && !Files.isRegularFile(dir.resolve("model.safetensors.index.json")))
            throw new CortadoException(dir + " has no model.safetensors; Whisper runs from HF safetensors (export with save_pretrained)");
        try (Safetensors st = Safetensors.openFolder(dir)) {
            return build(c, new WeightNames(be, st.tensors(), dir.resolve("model.safetensors").toString()), be, "safetensors");
        }
    }

    /**
     * A Whisper folder: HF safetensors (model.safetensors) when present, else the Optimum ONNX layout
     * (encoder_model.onnx + decoder_model.onnx, in the folder or its onnx/), weights found by graph tracing.
     */
    public static WhisperModel open(Path dir, Backend be) {
        WhisperConfig.load(dir);
        if (Files.isRegularFile(dir.resolve("model.safetensors")) || Files.isRegularFile(dir.resolve("model.safetensors.index.json")))
            return fromSafetensors(dir, be);
        Path onnx = Files.isRegularFile(dir.resolve("encoder_model.onnx")) ? dir : dir.resolve("onnx");
        if (Files.isRegularFile(onnx.resolve("encoder_model.onnx"))) return fromOnnx(onnx, be);
        throw new CortadoException(dir + " has neither model.safetensors nor encoder_model.onnx + decoder_model.onnx; "
                + "pass a Whisper folder saved with save_pretrained or exported with Optimum");
    }

    /** From the Optimum ONNX files; config.json in the folder or its parent. */
    public static WhisperModel fromOnnx(Path dir, Backend be) {
        ModelConfig mc = ModelConfig.find(dir);
        WhisperConfig c = WhisperConfig.load(mc.file().getParent());
        try (Seq2SeqTracer t = Seq2SeqTracer.open(dir, mc, be)) {
            return build(c, t.names(), be, "onnx");
        }
    }

    static WhisperModel build(WhisperConfig c, WeightNames w, Backend be, String source) {
        int d = c.dModel();
        Activation act = WeightNames.activation(c.activation(), c.file().toString());
        float eps = 1e-5f;
        String e = "model.encoder.", dp = "model.decoder.";
        Conv1d conv1 = Conv1d.of(be, w.need(e + "conv1.weight"), w.opt(e + "conv1.bias"), 1, 1);
        Conv1d conv2 = Conv1d.of(be, w.need(e + "conv2.weight"), w.opt(e + "conv2.bias"), 2, 1);
        if (conv1.inChannels() != c.melBins())
            throw new CortadoException(source + ": conv1 expects " + conv1.inChannels() + " mel bins but config.json says num_mel_bins "
                    + c.melBins() + "; the weights and config do not belong together");
        Tensor encPos = w.need(e + "embed_positions.weight");
        List<EncoderLayer> enc = new ArrayList<>();
        for (int l = 0; l < c.encoderLayers(); l++) {
            String p = e + "layers." + l + ".";
            enc.add(new EncoderLayer(attention(w, p + "self_attn", c.encoderHeads(), d), w.layerNorm(p + "self_attn_layer_norm", eps),
                    new Mlp(w.linear(p + "fc1"), null, w.linear(p + "fc2"), act), w.layerNorm(p + "final_layer_norm", eps), true));
        }
        TransformerEncoder encoder = new TransformerEncoder(null, enc, w.layerNorm(e + "layer_norm", eps), null);
        List<DecoderLayer> dec = new ArrayList<>();
        for (int l = 0; l < c.decoderLayers(); l++) {
            String p = dp + "layers." + l + ".";
            dec.add(new DecoderLayer(attention(w, p + "self_attn", c.decoderHeads(), d), w.layerNorm(p + "self_attn_layer_norm", eps),
                    attention(w, p + "encoder_attn", c.decoderHeads(), d), w.layerNorm(p + "encoder_attn_layer_norm", eps),
                    new Mlp(w.linear(p + "fc1"), null, w.linear(p + "fc2"), act), w.layerNorm(p + "final_layer_norm", eps), true));
        }
        Tensor tok = w.need(dp + "embed_tokens.weight");
        Linear head = new Linear(w.opt("proj_out.weight") != null ? w.linearWeight("proj_out.weight") : be.weightTransposed(tok), null);
        float scale = c.scaleEmbedding() ? (float) Math.sqrt(d) : 1f;
        int maxTarget = c.maxTargetPositions();
        TransformerDecoder decoder = new TransformerDecoder(new Embeddings(be.weight(tok), be.weight(w.need(dp + "embed_positions.weight")),
                0, null, null, scale), dec, w.layerNorm(dp + "layer_norm", eps), head, 1f, c.decoderHeads(), d / c.decoderHeads(),
                maxTarget, null);
        String desc = "whisper (" + source + "): " + enc.size() + "+" + dec.size() + " layers, d_model " + d + ", "
                + c.encoderHeads() + " heads, " + c.melBins() + " mel bins";
        Seq2SeqModel s2s = new Seq2SeqModel(be, encoder, new DecoderModel(be, decoder, desc, null), c.maxSourcePositions(), desc);
        return new WhisperModel(be, c, conv1, conv2, be.weight(encPos), s2s);
    }

    private static Attention attention(WeightNames w, String p, int heads, int d) {
        int hd = d / heads;
        return new Attention(w.linear(p + ".q_proj"), w.linear(p + ".k_proj"), w.linear(p + ".v_proj"), w.linear(p + ".out_proj"),
                heads, heads, hd, (float) Math.pow(hd, -0.5), null);
    }

    /** Whether a folder holds a Whisper model (config.json model_type "whisper"). */
    public static boolean isWhisper(Path dir) {
        Path f = dir.resolve("config.json");
        return Files.isRegularFile(f) && "whisper".equals(ModelConfig.load(f).modelType());
    }
}
