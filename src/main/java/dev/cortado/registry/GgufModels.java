package dev.cortado.registry;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.engine.DecoderModel;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.gguf.GgufFile;
import dev.cortado.gguf.GgufMetadata;
import dev.cortado.gguf.GgufModel;
import dev.cortado.gguf.GgufTokenizer;
import dev.cortado.model.gpt2.Gpt2Family;
import dev.cortado.model.llama.LlamaFamily;
import dev.cortado.tokenizer.Tokenizer;
import dev.cortado.tokenizer.TokenizerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A single-file GGUF model ({@code *.gguf}): the decoder (llama, mistral, qwen2 → {@link LlamaFamily}; gpt2 →
 * {@link Gpt2Family}), the tokenizer, tokenizer config (chat template) and generation defaults (EOS) from its metadata,
 * and the {@code info} lines.
 */
public final class GgufModels {
    private GgufModels() {}

    /** Whether {@code path} is a GGUF file (by its extension; the magic is checked when it is opened). */
    public static boolean is(Path path) {
        return path != null && path.getFileName() != null && path.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gguf")
                && Files.isRegularFile(path);
    }

    /** The decoder; it owns the mapping (closed with the model). */
    public static DecoderModel open(Path path, Backend be) {
        GgufFile f = GgufFile.open(path);
        GgufModel g;
        try {
            g = GgufModel.load(f);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
        try {
            return g.architecture().equals("gpt2") ? Gpt2Family.fromGguf(g, be) : LlamaFamily.fromGguf(g, be);
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
    }

    public static Tokenizer tokenizer(Path path) {
        try (GgufFile f = GgufFile.open(path)) {
            if (!GgufTokenizer.present(f)) throw new CortadoException(path + " has no tokenizer (tokenizer.ggml.*); pass --tokenizer PATH");
            return GgufTokenizer.tokenizer(f);
        }
    }

    public static TokenizerConfig tokenizerConfig(Path path) {
        try (GgufFile f = GgufFile.open(path)) {
            return GgufTokenizer.config(f);
        }
    }

    /** Transformers' defaults with the file's end-of-generation token ids (EOS, EOT). */
    public static GenerationConfig generationConfig(Path path) {
        try (GgufFile f = GgufFile.open(path)) {
            GgufMetadata m = GgufMetadata.of(f);
            GenerationConfig c = GenerationConfig.defaults();
            // llama.cpp stops at any end-of-generation token: EOS, and EOT where the file names one (chat models)
            java.util.LinkedHashSet<Integer> eos = new java.util.LinkedHashSet<>();
            for (String k : List.of("tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id")) {
                if (m.has(k)) eos.add(m.integer(k, 0, Integer.MAX_VALUE));
            }
            return eos.isEmpty() ? c : c.eosTokenIds(List.copyOf(eos));
        }
    }

    /** {@code info}: version, architecture, tensor count and types, tokenizer. */
    public static List<String> describe(Path path) {
        try (GgufFile f = GgufFile.open(path)) {
            GgufMetadata m = GgufMetadata.of(f);
            String tok = GgufTokenizer.present(f) ? m.string("tokenizer.ggml.model") + " (" + m.strings("tokenizer.ggml.tokens").size() + " tokens"
                    + (m.has("tokenizer.ggml.pre") ? ", pre " + m.string("tokenizer.ggml.pre") : "")
                    + (m.has("tokenizer.chat_template") ? ", chat template" : "") + ")" : "none";
            return List.of("  gguf:     version " + f.version() + ", architecture " + m.string("general.architecture", "?")
                            + (m.has("general.name") ? ", name " + m.string("general.name") : "") + ", alignment " + f.alignment(),
                    "  tensors:  " + f.tensors().size() + " " + f.typeCounts(),
                    "  tokenizer: " + tok);
        }
    }
}
