package dev.cortado.cli;

import dev.cortado.CortadoException;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.registry.GgufModels;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the Hugging Face side files (tokenizer.json, generation_config.json) of a model path, or reads them from a GGUF file. */
final class ModelFiles {
    private ModelFiles() {}

    static Path sideFile(Path model, String name) {
        Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
        for (int i = 0; i < 2 && dir != null; i++, dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(name))) return dir.resolve(name);
        }
        return null;
    }

    static Tokenizer tokenizer(Path model, Path override) {
        if (override == null && GgufModels.is(model)) return GgufModels.tokenizer(model);
        Path t = override != null ? override : sideFile(model, "tokenizer.json");
        if (t == null) throw new CortadoException("no tokenizer.json for " + model + " (pass --tokenizer PATH)");
        return Tokenizer.fromFile(t);
    }

    /** tokenizer_config.json's model_max_length next to the model, or null (absent, or HF's "no limit"). */
    static Integer modelMaxLength(Path model) {
        if (GgufModels.is(model)) return null;
        Path t = sideFile(model, "tokenizer_config.json");
        return t == null ? null : dev.cortado.tokenizer.TokenizerConfig.load(t).modelMaxLength();
    }

    /** tokenizer_config.json beside the model, or a GGUF file's tokenizer metadata (chat template); null when absent. */
    static dev.cortado.tokenizer.TokenizerConfig tokenizerConfig(Path model) {
        if (GgufModels.is(model)) return GgufModels.tokenizerConfig(model);
        Path tc = sideFile(model, "tokenizer_config.json");
        return tc == null ? null : dev.cortado.tokenizer.TokenizerConfig.load(tc);
    }

    static GenerationConfig generationConfig(Path model) {
        if (GgufModels.is(model)) return GgufModels.generationConfig(model);
        Path g = sideFile(model, "generation_config.json");
        return g == null ? GenerationConfig.defaults() : GenerationConfig.fromFile(g);
    }
}
