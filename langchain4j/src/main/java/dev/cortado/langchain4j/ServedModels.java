package dev.cortado.langchain4j;

import dev.cortado.CortadoException;
import dev.cortado.api.ServedModel;
import dev.cortado.device.Device;
import dev.cortado.engine.DecoderModel;
import dev.cortado.engine.EmbeddingModel;
import dev.cortado.engine.EngineOptions;
import dev.cortado.engine.Pooling;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Embedders;
import dev.cortado.registry.Families;
import dev.cortado.registry.ModelKind;
import dev.cortado.tensor.DType;
import dev.cortado.tokenizer.Tokenizer;
import dev.cortado.tokenizer.TokenizerConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens a model folder as the {@link ServedModel} that {@code cortado batch} and {@code cortado serve} run (a decoder
 * behind its serving engine, or an embedding model), so the adapters share their request checks, chat templates,
 * tool calling and structured output through {@link dev.cortado.api.OpenAiService}.
 */
final class ServedModels {
    private ServedModels() {}

    /** The folder's name: the model's name in responses. */
    static String nameOf(Path model) {
        Path abs = model.toAbsolutePath().normalize();
        Path dir = Files.isDirectory(abs) ? abs : abs.getParent();
        return dir == null || dir.getFileName() == null ? abs.toString() : dir.getFileName().toString();
    }

    static Path require(Path model, String builder) {
        if (model == null)
            throw new CortadoException(builder + ": modelPath is not set; call .modelPath(Path.of(\"path/to/model\")) (a model "
                    + "folder: config.json, tokenizer.json and model.safetensors or an ONNX export)");
        if (!Files.exists(model))
            throw new CortadoException("model not found: " + model.toAbsolutePath().normalize() + "; pass an existing model "
                    + "folder to modelPath");
        return model;
    }

    /** A text generation model (decoder-only) on Cortado's engine, under {@code name}. */
    static ServedModel decoder(Path model, String name, Device device, EngineOptions options) {
        device.requireDriver();
        ModelKind kind = ModelKind.of(model);
        if (kind != ModelKind.DECODER && kind != ModelKind.UNKNOWN)
            throw new CortadoException(model + " is " + kind.what + ", not a chat (decoder-only) model; "
                    + (kind == ModelKind.ENCODER ? "use CortadoEmbeddingModel" : "use the Cortado facade (" + kind.command + ")"));
        Path tok = sideFile(model, "tokenizer.json");
        if (tok == null) throw new CortadoException("no tokenizer.json in " + model + "; a chat model needs its tokenizer.json");
        Tokenizer tokenizer = Tokenizer.fromFile(tok);
        Path tc = sideFile(model, "tokenizer_config.json");
        TokenizerConfig config = tc == null ? null : TokenizerConfig.load(tc);
        Path gc = sideFile(model, "generation_config.json");
        GenerationConfig defaults = gc == null ? GenerationConfig.defaults() : GenerationConfig.fromFile(gc);
        LanguageModel lm = Families.openDecoder(model, device, DType.F32, Families.Engine.CORTADO);
        if (!(lm instanceof DecoderModel dm)) {
            lm.close();
            throw new CortadoException(model + " is not run by Cortado's own engine, which the chat models need");
        }
        try {
            return ServedModel.decoder(name, dm, tokenizer, config, defaults, options);
        } catch (RuntimeException e) {
            dm.close();
            throw e;
        }
    }

    /** An embedding (encoder) model on Cortado's engine: a folder with model.onnx and tokenizer.json, or the .onnx file. */
    static EmbeddingModel embedder(Path model, Pooling pooling, boolean normalize) {
        ModelKind kind = ModelKind.of(model);
        if (kind != ModelKind.ENCODER && kind != ModelKind.UNKNOWN)
            throw new CortadoException(model + " is " + kind.what + ", not an embedding (encoder) model; "
                    + (kind == ModelKind.DECODER ? "use CortadoChatModel" : "use the Cortado facade (" + kind.command + ")"));
        return Embedders.open(model, null, Families.Engine.CORTADO, pooling, normalize);
    }

    /** {@code name} in the model folder (or the folder above a model file), or null. */
    static Path sideFile(Path model, String name) {
        Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
        for (int i = 0; i < 2 && dir != null; i++, dir = dir.getParent())
            if (Files.isRegularFile(dir.resolve(name))) return dir.resolve(name);
        return null;
    }
}
