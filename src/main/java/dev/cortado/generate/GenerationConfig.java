package dev.cortado.generate;

import dev.cortado.CortadoException;
import dev.cortado.generate.constraint.Constraint;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * How to generate: Hugging Face {@code generation_config.json} knobs plus OpenAI-style ones (presence/frequency
 * penalty, logit bias, stop strings, logprobs). Immutable; every knob has a wither of the same name returning a copy,
 * e.g. {@code GenerationConfig.sampling(0.7f).maxNewTokens(64).seed(1).stopStrings("\n\n")}; {@link #toBuilder()}
 * changes several at once. Defaults are Hugging Face's ({@code max_length} 20, {@code top_k} 50, ...).
 *
 * <p>Nullable components mean "unset": {@code maxNewTokens} (then {@code maxLength} rules), {@code logprobs}
 * (no logprobs; 0 = the chosen token's only, N = also the top N), token ids. Greedy decoding is used when
 * {@code doSample} is false or {@code temperature} is 0. {@code encoderDecoder} switches to seq2seq conventions: the
 * decoder prompt is {@code decoder_start_token_id} followed by the caller's prefix, and penalties see decoder ids only.
 * {@code constraint} (null = none): structured output (JSON schema, regex, choice); only tokens that keep the text
 * inside its language are allowed, EOS only where the text is complete.
 */
public record GenerationConfig(
        Integer maxNewTokens, int maxLength, int minNewTokens, boolean doSample, float temperature, int topK,
        float topP, float minP, float typicalP, float repetitionPenalty, float presencePenalty,
        float frequencyPenalty, int noRepeatNgramSize, List<List<Integer>> badWordsIds, Map<Integer, Float> logitBias,
        Integer forcedBosTokenId, Integer forcedEosTokenId, List<Integer> eosTokenIds, Integer padTokenId,
        Integer bosTokenId, Integer decoderStartTokenId, int numBeams, float lengthPenalty,
        EarlyStopping earlyStopping, int numReturnSequences, long seed, List<String> stopStrings, Integer logprobs,
        PromptOverflow promptOverflow, boolean encoderDecoder, boolean renormalizeLogits, Constraint constraint) {

    public GenerationConfig {
        badWordsIds = badWordsIds == null ? List.of() : badWordsIds.stream().map(List::copyOf).toList();
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
        earlyStopping = earlyStopping == null ? EarlyStopping.FALSE : earlyStopping;
        promptOverflow = promptOverflow == null ? PromptOverflow.ERROR : promptOverflow;
    }

    /** Hugging Face defaults: greedy, max_length 20. */
    public static GenerationConfig defaults() {
        return new Builder().build();
    }

    /** Greedy decoding (argmax each step): the defaults, since Hugging Face's default is greedy. */
    public static GenerationConfig greedy() {
        return defaults();
    }

    /** Sampling at {@code temperature} (HF default top_k 50 stays; set {@code topK(0)} to turn it off). */
    public static GenerationConfig sampling(float temperature) {
        return new Builder().doSample(true).temperature(temperature).build();
    }

    /** Beam search with {@code numBeams} beams (length penalty 1, early stopping off, as HF). */
    public static GenerationConfig beam(int numBeams) {
        return new Builder().numBeams(numBeams).build();
    }

    /** Reads a Hugging Face {@code generation_config.json}; unknown keys are ignored. */
    public static GenerationConfig fromFile(Path generationConfigJson) {
        return GenerationConfigJson.fromFile(generationConfigJson);
    }

    /**
     * Applies overrides keyed by {@code generation_config.json} names ({@code "temperature"}, {@code "eos_token_id"},
     * {@code "early_stopping"}: true/false/"never", {@code "stop_strings"}, {@code "logit_bias"}: {"id": bias}, ...).
     * A null value unsets the knob; an unknown key is an error (a user typed it).
     */
    public GenerationConfig withOverrides(Map<String, ?> overrides) {
        return GenerationConfigJson.withOverrides(this, overrides);
    }

    /** True when tokens are drawn at random (do_sample and temperature > 0). */
    public boolean sampling() {
        return doSample && temperature > 0f;
    }

    /**
     * Checks every knob; throws a {@link CortadoException} naming the first bad one. Returns this for chaining.
     */
    public GenerationConfig validate() {
        if (maxNewTokens != null && maxNewTokens < 0) bad("max_new_tokens", maxNewTokens, "must be >= 0");
        if (maxLength < 1) bad("max_length", maxLength, "must be >= 1");
        if (minNewTokens < 0) bad("min_new_tokens", minNewTokens, "must be >= 0");
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) bad("temperature", temperature, "must be >= 0 (0 = greedy)");
        if (topK < 0) bad("top_k", topK, "must be >= 0 (0 = off)");
        if (!(topP > 0f && topP <= 1f)) bad("top_p", topP, "must be in (0, 1]");
        if (!(minP >= 0f && minP <= 1f)) bad("min_p", minP, "must be in [0, 1] (0 = off)");
        if (!(typicalP > 0f && typicalP <= 1f)) bad("typical_p", typicalP, "must be in (0, 1]");
        if (!(repetitionPenalty > 0f) || Float.isInfinite(repetitionPenalty)) bad("repetition_penalty", repetitionPenalty, "must be > 0 (1 = off)");
        if (!(presencePenalty >= -2f && presencePenalty <= 2f)) bad("presence_penalty", presencePenalty, "must be in [-2, 2]");
        if (!(frequencyPenalty >= -2f && frequencyPenalty <= 2f)) bad("frequency_penalty", frequencyPenalty, "must be in [-2, 2]");
        if (noRepeatNgramSize < 0) bad("no_repeat_ngram_size", noRepeatNgramSize, "must be >= 0 (0 = off)");
        for (List<Integer> w : badWordsIds) {
            if (w.isEmpty()) bad("bad_words_ids", badWordsIds, "must not contain an empty list");
            for (Integer id : w) if (id == null || id < 0) bad("bad_words_ids", badWordsIds, "token ids must be >= 0");
        }
        for (var e : logitBias.entrySet()) {
            if (e.getKey() == null || e.getKey() < 0) bad("logit_bias", e.getKey(), "token ids must be >= 0");
            if (e.getValue() == null || Float.isNaN(e.getValue())) bad("logit_bias", e.getValue(), "bias must be a number");
        }
        tokenId("forced_bos_token_id", forcedBosTokenId);
        tokenId("forced_eos_token_id", forcedEosTokenId);
        for (Integer id : eosTokenIds) tokenId("eos_token_id", id == null ? -1 : id);
        tokenId("pad_token_id", padTokenId);
        tokenId("bos_token_id", bosTokenId);
        tokenId("decoder_start_token_id", decoderStartTokenId);
        if (numBeams < 1) bad("num_beams", numBeams, "must be >= 1");
        if (Float.isNaN(lengthPenalty) || Float.isInfinite(lengthPenalty)) bad("length_penalty", lengthPenalty, "must be a finite number");
        if (numReturnSequences < 1) bad("num_return_sequences", numReturnSequences, "must be >= 1");
        if (numBeams > 1 && numReturnSequences > numBeams)
            bad("num_return_sequences", numReturnSequences, "must be <= num_beams (" + numBeams + ")");
        if (numBeams == 1 && !sampling() && numReturnSequences > 1)
            bad("num_return_sequences", numReturnSequences, "must be 1 for greedy decoding (use sampling or num_beams)");
        if (numBeams > 1 && sampling())
            throw new CortadoException("beam sampling (num_beams > 1 with do_sample) is not supported; "
                    + "set do_sample=false or num_beams=1");
        for (String s : stopStrings) if (s == null || s.isEmpty()) bad("stop_strings", stopStrings, "must not contain an empty string");
        if (logprobs != null && logprobs < 0) bad("logprobs", logprobs, "must be >= 0 (top-N alternatives)");
        if (constraint != null && eosTokenIds.isEmpty())
            throw new CortadoException("generation config: a constraint needs eos_token_id to end the output; set eos_token_id");
        if (encoderDecoder && decoderStartTokenId == null)
            throw new CortadoException("generation config: decoder_start_token_id is required for an encoder-decoder model");
        return this;
    }

    private static void tokenId(String knob, Integer id) {
        if (id != null && id < 0) bad(knob, id, "must be >= 0");
    }

    private static void bad(String knob, Object value, String rule) {
        throw new CortadoException("generation config: " + knob + " = " + value + " " + rule);
    }

    /** A builder holding this config's values, to change several knobs at once. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    // ---- withers: each returns a copy with one knob changed ----
    public GenerationConfig maxNewTokens(Integer v) { return toBuilder().maxNewTokens(v).build(); }
    public GenerationConfig maxLength(int v) { return toBuilder().maxLength(v).build(); }
    public GenerationConfig minNewTokens(int v) { return toBuilder().minNewTokens(v).build(); }
    public GenerationConfig doSample(boolean v) { return toBuilder().doSample(v).build(); }
    public GenerationConfig temperature(float v) { return toBuilder().temperature(v).build(); }
    public GenerationConfig topK(int v) { return toBuilder().topK(v).build(); }
    public GenerationConfig topP(float v) { return toBuilder().topP(v).build(); }
    public GenerationConfig minP(float v) { return toBuilder().minP(v).build(); }
    public GenerationConfig typicalP(float v) { return toBuilder().typicalP(v).build(); }
    public GenerationConfig repetitionPenalty(float v) { return toBuilder().repetitionPenalty(v).build(); }
    public GenerationConfig presencePenalty(float v) { return toBuilder().presencePenalty(v).build(); }
    public GenerationConfig frequencyPenalty(float v) { return toBuilder().frequencyPenalty(v).build(); }
    public GenerationConfig noRepeatNgramSize(int v) { return toBuilder().noRepeatNgramSize(v).build(); }
    public GenerationConfig badWordsIds(List<List<Integer>> v) { return toBuilder().badWordsIds(v).build(); }
    public GenerationConfig logitBias(Map<Integer, Float> v) { return toBuilder().logitBias(v).build(); }
    public GenerationConfig forcedBosTokenId(Integer v) { return toBuilder().forcedBosTokenId(v).build(); }
    public GenerationConfig forcedEosTokenId(Integer v) { return toBuilder().forcedEosTokenId(v).build(); }
    public GenerationConfig eosTokenIds(List<Integer> v) { return toBuilder().eosTokenIds(v).build(); }
    public GenerationConfig eosTokenId(int... v) { return toBuilder().eosTokenIds(java.util.Arrays.stream(v).boxed().toList()).build(); }
    public GenerationConfig padTokenId(Integer v) { return toBuilder().padTokenId(v).build(); }
    public GenerationConfig bosTokenId(Integer v) { return toBuilder().bosTokenId(v).build(); }
    public GenerationConfig decoderStartTokenId(Integer v) { return toBuilder().decoderStartTokenId(v).build(); }
    public GenerationConfig numBeams(int v) { return toBuilder().numBeams(v).build(); }
    public GenerationConfig lengthPenalty(float v) { return toBuilder().lengthPenalty(v).build(); }
    public GenerationConfig earlyStopping(EarlyStopping v) { return toBuilder().earlyStopping(v).build(); }
    public GenerationConfig numReturnSequences(int v) { return toBuilder().numReturnSequences(v).build(); }
    public GenerationConfig seed(long v) { return toBuilder().seed(v).build(); }
    public GenerationConfig stopStrings(String... v) { return toBuilder().stopStrings(List.of(v)).build(); }
    public GenerationConfig logprobs(Integer v) { return toBuilder().logprobs(v).build(); }
    public GenerationConfig promptOverflow(PromptOverflow v) { return toBuilder().promptOverflow(v).build(); }
    public GenerationConfig encoderDecoder(boolean v) { return toBuilder().encoderDecoder(v).build(); }
    public GenerationConfig renormalizeLogits(boolean v) { return toBuilder().renormalizeLogits(v).build(); }
    public GenerationConfig constraint(Constraint v) { return toBuilder().constraint(v).build(); }

    /** Mutable builder; {@link #build()} does not validate (generation does). */
    public static final class Builder {
        Integer maxNewTokens;
        int maxLength = 20;
        int minNewTokens;
        boolean doSample;
        float temperature = 1f;
        int topK = 50;
        float topP = 1f;
        float minP;
        float typicalP = 1f;
        float repetitionPenalty = 1f;
        float presencePenalty;
        float frequencyPenalty;
        int noRepeatNgramSize;
        List<List<Integer>> badWordsIds = List.of();
        Map<Integer, Float> logitBias = Map.of();
        Integer forcedBosTokenId;
        Integer forcedEosTokenId;
        List<Integer> eosTokenIds = List.of();
        Integer padTokenId;
        Integer bosTokenId;
        Integer decoderStartTokenId;
        int numBeams = 1;
        float lengthPenalty = 1f;
        EarlyStopping earlyStopping = EarlyStopping.FALSE;
        int numReturnSequences = 1;
        long seed;
        List<String> stopStrings = List.of();
        Integer logprobs;
        PromptOverflow promptOverflow = PromptOverflow.ERROR;
        boolean encoderDecoder;
        boolean renormalizeLogits;
        Constraint constraint;

        public Builder() {}

        Builder(GenerationConfig c) {
            maxNewTokens = c.maxNewTokens; maxLength = c.maxLength; minNewTokens = c.minNewTokens;
            doSample = c.doSample; temperature = c.temperature; topK = c.topK; topP = c.topP; minP = c.minP;
            typicalP = c.typicalP; repetitionPenalty = c.repetitionPenalty; presencePenalty = c.presencePenalty;
            frequencyPenalty = c.frequencyPenalty; noRepeatNgramSize = c.noRepeatNgramSize;
            badWordsIds = c.badWordsIds; logitBias = c.logitBias; forcedBosTokenId = c.forcedBosTokenId;
            forcedEosTokenId = c.forcedEosTokenId; eosTokenIds = c.eosTokenIds; padTokenId = c.padTokenId;
            bosTokenId = c.bosTokenId; decoderStartTokenId = c.decoderStartTokenId; numBeams = c.numBeams;
            lengthPenalty = c.lengthPenalty; earlyStopping = c.earlyStopping;
            numReturnSequences = c.numReturnSequences; seed = c.seed; stopStrings = c.stopStrings;
            logprobs = c.logprobs; promptOverflow = c.promptOverflow; encoderDecoder = c.encoderDecoder;
            renormalizeLogits = c.renormalizeLogits;
            constraint = c.constraint;
        }

        public Builder maxNewTokens(Integer v) { maxNewTokens = v; return this; }
        public Builder maxLength(int v) { maxLength = v; return this; }
        public Builder minNewTokens(int v) { minNewTokens = v; return this; }
        public Builder doSample(boolean v) { doSample = v; return this; }
        public Builder temperature(float v) { temperature = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder topP(float v) { topP = v; return this; }
        public Builder minP(float v) { minP = v; return this; }
        public Builder typicalP(float v) { typicalP = v; return this; }
        public Builder repetitionPenalty(float v) { repetitionPenalty = v; return this; }
        public Builder presencePenalty(float v) { presencePenalty = v; return this; }
        public Builder frequencyPenalty(float v) { frequencyPenalty = v; return this; }
        public Builder noRepeatNgramSize(int v) { noRepeatNgramSize = v; return this; }
        public Builder badWordsIds(List<List<Integer>> v) { badWordsIds = v; return this; }
        public Builder logitBias(Map<Integer, Float> v) { logitBias = v; return this; }
        public Builder forcedBosTokenId(Integer v) { forcedBosTokenId = v; return this; }
        public Builder forcedEosTokenId(Integer v) { forcedEosTokenId = v; return this; }
        public Builder eosTokenIds(List<Integer> v) { eosTokenIds = v; return this; }
        public Builder padTokenId(Integer v) { padTokenId = v; return this; }
        public Builder bosTokenId(Integer v) { bosTokenId = v; return this; }
        public Builder decoderStartTokenId(Integer v) { decoderStartTokenId = v; return this; }
        public Builder numBeams(int v) { numBeams = v; return this; }
        public Builder lengthPenalty(float v) { lengthPenalty = v; return this; }
        public Builder earlyStopping(EarlyStopping v) { earlyStopping = v; return this; }
        public Builder numReturnSequences(int v) { numReturnSequences = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder stopStrings(List<String> v) { stopStrings = v; return this; }
        public Builder logprobs(Integer v) { logprobs = v; return this; }
        public Builder promptOverflow(PromptOverflow v) { promptOverflow = v; return this; }
        public Builder encoderDecoder(boolean v) { encoderDecoder = v; return this; }
        public Builder renormalizeLogits(boolean v) { renormalizeLogits = v; return this; }
        public Builder constraint(Constraint v) { constraint = v; return this; }

        public GenerationConfig build() {
            return new GenerationConfig(maxNewTokens, maxLength, minNewTokens, doSample, temperature, topK, topP,
                    minP, typicalP, repetitionPenalty, presencePenalty, frequencyPenalty, noRepeatNgramSize,
                    badWordsIds, logitBias, forcedBosTokenId, forcedEosTokenId, eosTokenIds, padTokenId, bosTokenId,
                    decoderStartTokenId, numBeams, lengthPenalty, earlyStopping, numReturnSequences, seed,
                    stopStrings, logprobs, promptOverflow, encoderDecoder, renormalizeLogits, constraint);
        }
    }
}
