package dev.cortado.engine;

import dev.cortado.CortadoException;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Translation / summarization over any {@link Seq2Seq}: tokenize sources (with the tokenizer's special tokens),
 * fit them to the encoder's limit, pad the batch, encode once, then run the shared {@link Generator} on the
 * decoder bound to that encoding.
 */
public final class Seq2SeqRunner {
    private final Seq2Seq model;
    private final Tokenizer tokenizer;
    private final GenerationConfig config;
    private final boolean truncate;
    private final Consumer<String> warnings;
    private int sourceLimit = Integer.MAX_VALUE;
    private Engine engine;

    public Seq2SeqRunner(Seq2Seq model, Tokenizer tokenizer, GenerationConfig config, boolean truncate, Consumer<String> warnings) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.config = config.encoderDecoder(true).validate();
        this.truncate = truncate;
        this.warnings = warnings;
        if (tokenizer.vocabSize() > model.vocabSize()) {
            throw new CortadoException("tokenizer has " + tokenizer.vocabSize() + " tokens but the model's vocabulary has "
                    + model.vocabSize() + ": they do not belong together");
        }
    }

    /**
     * Caps source length below the encoder's positions, e.g. at tokenizer_config.json's {@code model_max_length}
     * (what the model was trained and evaluated with: HF {@code truncation=True} cuts there). null = no cap.
     */
    public Seq2SeqRunner sourceLimit(Integer maxTokens) {
        if (maxTokens != null && maxTokens < 2) throw new CortadoException("source limit must be ≥ 2 tokens, got " + maxTokens);
        this.sourceLimit = maxTokens == null ? Integer.MAX_VALUE : maxTokens;
        return this;
    }

    /** Longest source the runner passes to the encoder (tokens, specials included). */
    public int maxSourceTokens() {
        return Math.min(model.maxSourcePositions(), sourceLimit);
    }

    public GenerationConfig config() {
        return config;
    }

    /** num_return_sequences results per source, source-major. */
    public List<GenerationResult> run(List<String> sources) {
        return run(sources, i -> i + 1);
    }

    /**
     * {@link #run(List)}, naming source {@code i} of this batch as {@code number.applyAsInt(i)} in errors and warnings
     * (its line in the caller's whole input).
     */
    public List<GenerationResult> run(List<String> sources, java.util.function.IntUnaryOperator number) {
        int b = sources.size();
        if (b == 0) return List.of();
        int limit = maxSourceTokens();
        int[][] toks = new int[b][];
        int len = 1;
        for (int i = 0; i < b; i++) {
            String s = sources.get(i);
            if (s == null || s.isBlank()) throw new CortadoException("source " + number.applyAsInt(i) + " is empty");
            int[] ids = tokenizer.encode(s, true).ids();
            if (ids.length > limit) {
                if (!truncate) {
                    String why = limit < model.maxSourcePositions() ? "model_max_length in tokenizer_config.json" : "the encoder's positions";
                    throw new CortadoException("source " + number.applyAsInt(i) + " has " + ids.length + " tokens, more than the model's limit of "
                            + limit + " (" + why + "); allow truncation to cut it");
                }
                warnings.accept("source " + number.applyAsInt(i) + " truncated from " + ids.length + " to " + limit + " tokens");
                int last = ids[ids.length - 1];
                ids = java.util.Arrays.copyOf(ids, limit);
                ids[limit - 1] = last;  // keep the closing special token (</s>) as HF truncation does
            }
            toks[i] = ids;
            len = Math.max(len, ids.length);
        }
        if (engine != null) return viaEngine(toks);
        int pad = config.padTokenId() != null ? config.padTokenId() : 0;
        int[][] ids = new int[b][len];
        boolean[][] valid = new boolean[b][len];
        for (int i = 0; i < b; i++) {
            java.util.Arrays.fill(ids[i], pad);
            System.arraycopy(toks[i], 0, ids[i], 0, toks[i].length);
            for (int j = 0; j < toks[i].length; j++) valid[i][j] = true;
        }
        int per = config.numBeams() > 1 ? config.numBeams() : config.numReturnSequences();
        Seq2Seq.Encoded enc = model.encode(ids, valid);
        dev.cortado.generate.LanguageModel decoder = model.bind(enc, per);
        checkMaxNewTokens(config, decoder.maxPositions());
        Generator g = new Generator(decoder, tokenizer, config);
        return g.generateIds(new int[b][0]);
    }


    /** A seq2seq decoder starts from one token, so it writes at most positions - 1 tokens per source. */
    static void checkMaxNewTokens(GenerationConfig config, int decoderPositions) {
        Integer maxNew = config.maxNewTokens();
        if (maxNew != null && maxNew >= decoderPositions) {
            throw new CortadoException("maximum output length " + maxNew + " is more than this model writes per source: its decoder has "
                    + decoderPositions + " positions, so at most " + (decoderPositions - 1)
                    + " output tokens (lower --max-length / max_new_tokens)");
        }
    }

    /** Each source is one engine request, batched with whatever else the engine runs; results in source order. */
    private List<GenerationResult> viaEngine(int[][] sources) {
        List<java.util.concurrent.CompletableFuture<Completion>> futures = new ArrayList<>();
        for (int[] src : sources) futures.add(engine.submit(Request.ofIds(src, config)));
        List<GenerationResult> out = new ArrayList<>();
        try {
            for (var f : futures) out.addAll(f.join().results());
        } catch (java.util.concurrent.CompletionException e) {
            futures.forEach(f -> f.cancel(true));
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw e;
        }
        return out;
    }

    /**
     * Runs the sources through a serving engine over the same model (continuous batching with every other request)
     * instead of one padded batch of its own. Same tokens either way.
     */
    public Seq2SeqRunner viaEngine(Engine engine) {
        this.engine = engine;
        return this;
    }

    public static List<List<String>> batches(List<String> items, int size) {
        List<List<String>> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i += size) out.add(items.subList(i, Math.min(items.size(), i + size)));
        return out;
    }
}
