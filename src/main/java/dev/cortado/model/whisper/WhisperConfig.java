package dev.cortado.model.whisper;

import dev.cortado.CortadoException;
import dev.cortado.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whisper's config.json fields, all checked here (one place) with errors naming the file and the field. */
public record WhisperConfig(Path file, int dModel, int encoderLayers, int decoderLayers, int encoderHeads, int decoderHeads,
                            int melBins, int maxSourcePositions, int maxTargetPositions, int vocabSize, String activation,
                            boolean scaleEmbedding) {

    public static WhisperConfig load(Path dir) {
        Path f = dir.resolve("config.json");
        if (!Files.isRegularFile(f)) throw new CortadoException("model folder " + dir + " has no config.json; pass a Whisper model folder");
        ModelConfig c = ModelConfig.load(f);
        if (!"whisper".equals(c.modelType()))
            throw new CortadoException(f + ": model_type '" + c.modelType() + "' is not a Whisper model; transcribe needs a Whisper folder (model_type \"whisper\")");
        WhisperConfig w = new WhisperConfig(f, c.integer("d_model"), c.integer("encoder_layers"), c.integer("decoder_layers"),
                c.integer("encoder_attention_heads"), c.integer("decoder_attention_heads"), c.integer("num_mel_bins", 80),
                c.integer("max_source_positions", 1500), c.integer("max_target_positions", 448), c.integer("vocab_size"),
                c.str("activation_function", "gelu"), c.bool("scale_embedding", false));
        return w.validate();
    }

    WhisperConfig validate() {
        positive("d_model", dModel);
        positive("encoder_layers", encoderLayers);
        positive("decoder_layers", decoderLayers);
        positive("encoder_attention_heads", encoderHeads);
        positive("decoder_attention_heads", decoderHeads);
        positive("num_mel_bins", melBins);
        positive("max_source_positions", maxSourcePositions);
        positive("max_target_positions", maxTargetPositions);
        positive("vocab_size", vocabSize);
        if (dModel % encoderHeads != 0 || dModel % decoderHeads != 0)
            throw new CortadoException(file + ": d_model " + dModel + " is not divisible by the attention heads ("
                    + encoderHeads + " encoder, " + decoderHeads + " decoder); fix config.json");
        return this;
    }

    private void positive(String field, int v) {
        if (v <= 0) throw new CortadoException(file + ": field '" + field + "' must be positive, got " + v + "; fix config.json");
    }

    /** Log-mel frames per 30 s window the encoder takes (conv2 halves them to max_source_positions). */
    public int framesPerWindow() {
        return 2 * maxSourcePositions;
    }
}
