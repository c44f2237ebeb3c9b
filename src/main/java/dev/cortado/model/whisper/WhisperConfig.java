package dev.cortado.model.whisper;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend.Activation;
import dev.cortado.model.ConfigCheck;
import dev.cortado.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whisper's config.json, validated once through {@link ConfigCheck} (typed, range-checked fields; heads divide
 * d_model), with errors naming the file and the field.
 */
public record WhisperConfig(Path file, ModelConfig raw, int dModel, int encoderLayers, int decoderLayers, int encoderHeads,
                            int decoderHeads, int encoderFfn, int decoderFfn, int melBins, int maxSourcePositions,
                            int maxTargetPositions, int vocabSize, Activation activation, boolean scaleEmbedding) {

    public static WhisperConfig load(Path dir) {
        Path f = dir.resolve("config.json");
        if (!Files.isRegularFile(f)) throw new CortadoException("model folder " + dir + " has no config.json; pass a Whisper model folder");
        return of(ModelConfig.load(f));
    }

    public static WhisperConfig of(ModelConfig c) {
        ConfigCheck k = new ConfigCheck(c);
        if (!"whisper".equals(c.modelType()))
            throw new CortadoException(c.file() + ": model_type '" + c.modelType() + "' is not a Whisper model; transcribe needs a Whisper folder (model_type \"whisper\")");
        int d = k.size("d_model", ConfigCheck.MAX_DIM);
        return new WhisperConfig(c.file(), c, d, k.size("encoder_layers", ConfigCheck.MAX_LAYERS), k.size("decoder_layers", ConfigCheck.MAX_LAYERS),
                k.heads("encoder_attention_heads", d, "d_model", false), k.heads("decoder_attention_heads", d, "d_model", false),
                k.size("encoder_ffn_dim", -1, ConfigCheck.MAX_DIM), k.size("decoder_ffn_dim", -1, ConfigCheck.MAX_DIM),
                k.size("num_mel_bins", 80, 4096), k.size("max_source_positions", 1500, ConfigCheck.MAX_POSITIONS),
                k.size("max_target_positions", 448, ConfigCheck.MAX_POSITIONS), k.size("vocab_size", ConfigCheck.MAX_VOCAB),
                k.activation("activation_function", "gelu"), k.bool("scale_embedding", false));
    }

    public ConfigCheck check() {
        return new ConfigCheck(raw);
    }

    /** Log-mel frames per 30 s window the encoder takes (conv2 halves them to max_source_positions). */
    public int framesPerWindow() {
        return 2 * maxSourcePositions;
    }
}
