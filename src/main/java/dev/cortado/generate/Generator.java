package dev.cortado.generate;

import dev.cortado.CortadoException;
import dev.cortado.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Generation over any {@link LanguageModel}: greedy, seeded sampling or beam search (chosen by the config),
 * stop conditions, logprobs, streaming and left-padded batching, written once for every family and device.
 *
 * <pre>{@code
 * Generator g = new Generator(model, tokenizer, GenerationConfig.sampling(0.7f).maxNewTokens(64).seed(1));
 * GenerationResult r = g.generate("Once upon a time");
 * g.generate("Once upon a time", t -> System.out.print(t.text()));          // streaming
 * List<GenerationResult> best4 = g.withConfig(GenerationConfig.beam(4).numReturnSequences(4).maxNewTokens(32))
 *         .generateBatch(List.of("prompt"));                                    // n-best, sequences_scores
 * List<GenerationResult> ids = g.generateIds(new int[][] {{1, 5, 9}});          // id level
 * }</pre>
 *
 * For an encoder-decoder model, {@code model} is the decoder bound to one encoder output whose batch rows are
 * sources x beams (or x num_return_sequences when sampling), {@code config.encoderDecoder()} is true, and each
 * decoder prompt is decoder_start_token_id followed by the caller's prefix (text or ids, usually empty).
 * The tokenizer may be null for id-level use (no text, no stop strings).
 */
public final class Generator {
    private final LanguageModel model;
    private final Tokenizer tokenizer;
    private final GenerationConfig config;

    public Generator(LanguageModel model, Tokenizer tokenizer, GenerationConfig config) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.config = config.validate();
        if (tokenizer == null && !config.stopStrings().isEmpty())
            throw new CortadoException("stop strings need a tokenizer");
        if (tokenizer == null && config.constraint() != null)
            throw new CortadoException("a constraint (json schema, regex, choice) needs the model's tokenizer");
    }

    /** The generation config this generator uses. */
    public GenerationConfig config() {
        return config;
    }

    /** The same model and tokenizer with another config. */
    public Generator withConfig(GenerationConfig config) {
        return new Generator(model, tokenizer, config);
    }

    /** One prompt; the first (best) result. */
    public GenerationResult generate(String prompt) {
        return generate(prompt, null);
    }

    /** One prompt, streaming each token to {@code onToken}; the first (best) result. */
    public GenerationResult generate(String prompt, Consumer<GeneratedToken> onToken) {
        return generateBatch(List.of(prompt), onToken).getFirst();
    }

    /** Several prompts in one left-padded batch; num_return_sequences results per prompt, prompt-major. */
    public List<GenerationResult> generateBatch(List<String> prompts) {
        return generateBatch(prompts, null);
    }

    /** {@link #generateBatch(List)} streaming each token of every row to {@code onToken}. */
    public List<GenerationResult> generateBatch(List<String> prompts, Consumer<GeneratedToken> onToken) {
        if (tokenizer == null) throw new CortadoException("text prompts need a tokenizer; use generateIds");
        int[][] ids = new int[prompts.size()][];
        for (int i = 0; i < ids.length; i++) {
            String p = prompts.get(i);
            if (p == null) throw new CortadoException("prompt " + i + " is null");
            ids[i] = tokenizer.encode(p, !config.encoderDecoder()).ids();
        }
        return generateIds(ids, onToken);
    }

    /** Id-level generation (prompts, or decoder prefixes for seq2seq); results prompt-major. */
    public List<GenerationResult> generateIds(int[][] promptIds) {
        return generateIds(promptIds, null);
    }

    /** {@link #generateIds(int[][])} streaming each token of every row to {@code onToken}. */
    public List<GenerationResult> generateIds(int[][] promptIds, Consumer<GeneratedToken> onToken) {
        if (promptIds.length == 0) return List.of();
        int vocab = model.vocabSize();
        int[][] prompts = new int[promptIds.length][];
        int[] maxLengths = new int[promptIds.length];
        for (int i = 0; i < prompts.length; i++) {
            int[] p = prepare(promptIds[i], i);
            for (int id : p)
                if (id < 0 || id >= vocab)
                    throw new CortadoException("prompt " + i + ": token id " + id + " is outside the vocabulary (0.."
                            + (vocab - 1) + ")");
            int[] fitted = fit(p, i);
            prompts[i] = fitted;
            maxLengths[i] = maxLength(fitted);
        }
        checkIds(vocab);
        Job job = new Job(model, config, tokenizer, prompts, maxLengths, padId(), onToken);
        return config.numBeams() > 1 ? BeamSearch.run(job) : SamplingSearch.run(job);
    }

    private int[] prepare(int[] ids, int i) {
        if (ids == null) throw new CortadoException("prompt " + i + " is null");
        if (config.encoderDecoder()) {
            int[] p = new int[ids.length + 1];
            p[0] = config.decoderStartTokenId();
            System.arraycopy(ids, 0, p, 1, ids.length);
            return p;
        }
        if (ids.length == 0) {
            if (config.bosTokenId() != null) return new int[] {config.bosTokenId()};
            throw new CortadoException("prompt " + i + " is empty and the config has no bos_token_id to start from");
        }
        return ids.clone();
    }

    /** Applies the context limit: error, or drop tokens from the left (keeping a seq2seq decoder start). */
    private int[] fit(int[] p, int i) {
        int ctx = model.maxPositions();
        Integer maxNew = config.maxNewTokens();
        int need = maxNew != null ? maxNew : 1;
        if (p.length + need <= ctx || (maxNew == null && p.length < ctx)) return p;
        if (config.promptOverflow() == PromptOverflow.ERROR)
            throw new CortadoException("prompt " + i + " has " + p.length + " tokens and max_new_tokens is "
                    + (maxNew == null ? "unset" : maxNew) + ", but the model's context is " + ctx
                    + " tokens; shorten the prompt, lower max_new_tokens or let the prompt's start be dropped "
                    + "(--truncate left; truncate_prompt in the generation config)");
        int keep = ctx - Math.min(need, ctx - 1);
        if (config.encoderDecoder()) {
            int[] out = new int[keep];
            out[0] = p[0];
            System.arraycopy(p, p.length - (keep - 1), out, 1, keep - 1);
            return out;
        }
        return Arrays.copyOfRange(p, p.length - keep, p.length);
    }

    private int maxLength(int[] p) {
        int ctx = model.maxPositions();
        int limit = config.maxNewTokens() != null ? p.length + config.maxNewTokens() : config.maxLength();
        return Math.min(limit, ctx);
    }

    private void checkIds(int vocab) {
        List<Integer> ids = new ArrayList<>(config.eosTokenIds());
        if (config.forcedBosTokenId() != null) ids.add(config.forcedBosTokenId());
        if (config.forcedEosTokenId() != null) ids.add(config.forcedEosTokenId());
        if (config.padTokenId() != null) ids.add(config.padTokenId());
        for (int id : ids)
            if (id >= vocab)
                throw new CortadoException("generation config: token id " + id + " is outside the vocabulary (0.."
                        + (vocab - 1) + ")");
    }

    /** pad_token_id, else the first EOS id (as transformers does), else 0. */
    private int padId() {
        if (config.padTokenId() != null) return config.padTokenId();
        if (!config.eosTokenIds().isEmpty()) return config.eosTokenIds().getFirst();
        return 0;
    }
}
