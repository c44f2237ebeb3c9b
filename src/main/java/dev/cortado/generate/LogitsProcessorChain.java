package dev.cortado.generate;

import dev.cortado.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The processors a config asks for, in the order of transformers' {@code GenerationMixin._get_logits_processor}
 * (5.x): sequence bias (here: logit_bias), repetition penalty, [presence/frequency penalty: OpenAI knobs, not in
 * transformers, placed next to the repetition penalty], no-repeat n-gram, bad words, min new tokens, forced BOS,
 * forced EOS; [the constraint mask (structured output), last among the processors so the warpers only see allowed
 * tokens]; then, only when sampling, the warpers temperature, top-k, top-p, min-p, typical-p.
 */
public final class LogitsProcessorChain implements LogitsProcessor {
    private final List<LogitsProcessor> processors;

    public LogitsProcessorChain(List<LogitsProcessor> processors) {
        this.processors = List.copyOf(processors);
    }

    /**
     * Builds the chain for {@code config}. {@code eos} are the end-of-sequence ids; {@code numBeams > 1} keeps
     * len(eos) + 1 tokens in the warpers, as transformers does for beam methods.
     */
    public static LogitsProcessorChain of(GenerationConfig config) {
        return of(config, null, List.of());
    }

    /** As {@link #of(GenerationConfig)}; {@code tokenizer} is needed when the config has a constraint. */
    public static LogitsProcessorChain of(GenerationConfig config, Tokenizer tokenizer) {
        return of(config, tokenizer, List.of());
    }

    /**
     * As {@link #of(GenerationConfig)} with a model's own processors (Whisper's suppress/timestamp rules, from
     * {@link LanguageModel#logitsProcessors()}) after the config's processors and before the sampling warpers, where
     * transformers merges the custom processors that a model's {@code generate} passes in; {@code tokenizer} is needed
     * when the config has a constraint (applied after every other processor, before the warpers).
     */
    public static LogitsProcessorChain of(GenerationConfig config, Tokenizer tokenizer, List<LogitsProcessor> modelProcessors) {
        List<LogitsProcessor> p = new ArrayList<>();
        List<Integer> eos = config.eosTokenIds();
        if (!config.logitBias().isEmpty()) p.add(Processors.SequenceBias.logitBias(config.logitBias()));
        if (config.repetitionPenalty() != 1f) p.add(new Processors.RepetitionPenalty(config.repetitionPenalty()));
        if (config.presencePenalty() != 0f || config.frequencyPenalty() != 0f)
            p.add(new Processors.PresenceFrequencyPenalty(config.presencePenalty(), config.frequencyPenalty()));
        if (config.noRepeatNgramSize() > 0) p.add(new Processors.NoRepeatNgram(config.noRepeatNgramSize()));
        if (!config.badWordsIds().isEmpty()) {
            Processors.SequenceBias bad = Processors.SequenceBias.badWords(config.badWordsIds(), eos);
            if (bad != null) p.add(bad);
        }
        if (config.minNewTokens() > 0 && !eos.isEmpty()) p.add(new Processors.MinNewTokens(config.minNewTokens(), eos));
        if (config.forcedBosTokenId() != null) p.add(new Processors.ForcedBos(config.forcedBosTokenId()));
        if (config.forcedEosTokenId() != null) p.add(new Processors.ForcedEos(config.forcedEosTokenId()));
        p.addAll(modelProcessors);
        if (config.constraint() != null) p.add(new ConstraintProcessor(config.constraint(), tokenizer, eos));
        if (config.sampling()) {
            int keep = config.numBeams() > 1 ? eos.size() + 1 : 1;
            if (config.numBeams() > 1 && eos.isEmpty()) keep = 2;
            if (config.temperature() != 1f) p.add(new Warpers.Temperature(config.temperature()));
            if (config.topK() != 0) p.add(new Warpers.TopK(config.topK(), keep));
            if (config.topP() < 1f) p.add(new Warpers.TopP(config.topP(), keep));
            if (config.minP() > 0f) p.add(new Warpers.MinP(config.minP(), keep));
            if (config.typicalP() < 1f) p.add(new Warpers.Typical(config.typicalP(), keep));
        }
        if (config.renormalizeLogits()) p.add(LogitsProcessorChain::logSoftmax);
        return new LogitsProcessorChain(p);
    }

    /** transformers' LogitNormalization (renormalize_logits): log-softmax after every other processor. */
    static void logSoftmax(TokenHistory history, float[] scores) {
        float max = Float.NEGATIVE_INFINITY;
        for (float x : scores) max = Math.max(max, x);
        if (max == Float.NEGATIVE_INFINITY) return;
        double sum = 0;
        for (float x : scores) sum += Math.exp(x - max);
        float lse = (float) (max + Math.log(sum));
        for (int i = 0; i < scores.length; i++) scores[i] -= lse;
    }

    public List<LogitsProcessor> processors() {
        return processors;
    }

    public boolean isEmpty() {
        return processors.isEmpty();
    }

    @Override
    public void process(TokenHistory history, float[] scores) {
        for (LogitsProcessor p : processors) p.process(history, scores);
    }
}
