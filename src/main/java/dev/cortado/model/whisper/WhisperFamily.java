package dev.cortado.model.whisper;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.backend.Backend.Activation;
import dev.cortado.engine.DecoderModel;
import dev.cortado.engine.Seq2SeqModel;
import dev.cortado.layers.Conv1d;
import dev.cortado.layers.DecoderLayer;
import dev.cortado.layers.Embeddings;
import dev.cortado.layers.EncoderLayer;
import dev.cortado.layers.Linear;
import dev.cortado.layers.Mlp;
import dev.cortado.layers.TransformerDecoder;
import dev.cortado.layers.TransformerEncoder;
import dev.cortado.model.ConfigCheck;
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
        throw new CortadoException(dir + " has neither model.safetensors nor encoder_model.onnx + decoder_model.onnx (or decoder_model_merged.onnx); "
                + "pass a Whisper folder saved with save_pretrained or exported with Optimum");
    }

    /** From the Optimum ONNX files; config.json in the folder or its parent. */
    public static WhisperModel fromOnnx(Path dir, Backend be) {
        ModelConfig mc = ModelConfig.find(dir);
        WhisperConfig c = WhisperConfig.of(mc);
        try (Seq2SeqTracer t = Seq2SeqTracer.open(dir, mc, be)) {
            return build(c, t.names(), be, "onnx");
        }
    }

    static WhisperModel build(WhisperConfig c, WeightNames w, Backend be, String source) {
        int d = c.dModel(), mels = c.melBins(), vocab = c.vocabSize();
        ConfigCheck k = c.check();
        Activation act = c.activation();
        float eps = 1e-5f;
        String e = "model.encoder.", dp = "model.decoder.";
        k.layersMatch("encoder_layers", c.encoderLayers(), w.tensors().keySet(), e + "layers.", w.source());
        k.layersMatch("decoder_layers", c.decoderLayers(), w.tensors().keySet(), dp + "layers.", w.source());
        Conv1d conv1 = Conv1d.of(be, w.need(e + "conv1.weight", d, mels, 3), vector(w, e + "conv1.bias", d), 1, 1);
        Conv1d conv2 = Conv1d.of(be, w.need(e + "conv2.weight", d, d, 3), vector(w, e + "conv2.bias", d), 2, 1);
        Tensor encPos = w.need(e + "embed_positions.weight", c.maxSourcePositions(), d);
        int encFfn = c.encoderFfn() > 0 ? c.encoderFfn() : w.rowsOf(e + "layers.0.fc1.weight");
        int decFfn = c.decoderFfn() > 0 ? c.decoderFfn() : w.rowsOf(dp + "layers.0.fc1.weight");
        List<EncoderLayer> enc = new ArrayList<>();
        for (int l = 0; l < c.encoderLayers(); l++) {
            String p = e + "layers." + l + ".";
            enc.add(new EncoderLayer(w.fusedMhaProjections(p + "self_attn", c.encoderHeads(), d), w.layerNorm(p + "self_attn_layer_norm", eps, d),
                    new Mlp(w.linear(p + "fc1", encFfn, d), null, w.linear(p + "fc2", d, encFfn), act), w.layerNorm(p + "final_layer_norm", eps, d), true));
        }
        TransformerEncoder encoder = new TransformerEncoder(null, enc, w.layerNorm(e + "layer_norm", eps, d), null);
        List<DecoderLayer> dec = new ArrayList<>();
        for (int l = 0; l < c.decoderLayers(); l++) {
            String p = dp + "layers." + l + ".";
            dec.add(new DecoderLayer(w.fusedMhaProjections(p + "self_attn", c.decoderHeads(), d), w.layerNorm(p + "self_attn_layer_norm", eps, d),
                    w.fusedCrossProjections(p + "encoder_attn", c.decoderHeads(), d), w.layerNorm(p + "encoder_attn_layer_norm", eps, d),
                    new Mlp(w.linear(p + "fc1", decFfn, d), null, w.linear(p + "fc2", d, decFfn), act), w.layerNorm(p + "final_layer_norm", eps, d), true));
        }
        Tensor tok = w.need(dp + "embed_tokens.weight", vocab, d);
        Linear head = new Linear(w.opt("proj_out.weight") != null ? w.headWeight("proj_out.weight", vocab, d) : be.headWeight(tok, false), null);
        float scale = c.scaleEmbedding() ? (float) Math.sqrt(d) : 1f;
        int maxTarget = c.maxTargetPositions();
        TransformerDecoder decoder = new TransformerDecoder(new Embeddings(be.weight(tok), be.weight(w.need(dp + "embed_positions.weight", maxTarget, d)),
                0, null, null, scale), dec, w.layerNorm(dp + "layer_norm", eps, d), head, 1f, c.decoderHeads(), d / c.decoderHeads(),
                maxTarget, null);
        String desc = "whisper (" + source + "): " + enc.size() + "+" + dec.size() + " layers, d_model " + d + ", "
                + c.encoderHeads() + " heads, " + mels + " mel bins";
        Seq2SeqModel s2s = new Seq2SeqModel(be, encoder, new DecoderModel(be, decoder, desc, null), c.maxSourcePositions(), desc);
        return new WhisperModel(be, c, conv1, conv2, be.weight(encPos), s2s);
    }

    private static Tensor vector(WeightNames w, String name, int n) {
        return w.opt(name) == null ? null : w.need(name, n);
    }



    /** Whether a folder holds a Whisper model (config.json model_type "whisper"). */
    public static boolean isWhisper(Path dir) {
        Path f = dir.resolve("config.json");
        return Files.isRegularFile(f) && "whisper".equals(ModelConfig.load(f).modelType());
    }
}
