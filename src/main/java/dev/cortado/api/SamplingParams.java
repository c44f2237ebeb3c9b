package dev.cortado.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.CortadoException;
import dev.cortado.generate.GenerationConfig;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The generation knobs of an OpenAI completion or chat request (null = not given: the model's
 * {@code generation_config.json} value stays), and how they map onto a {@link GenerationConfig}. {@code cortado
 * generate}'s options map through the same {@link #applyTo}, so a knob means the same thing everywhere.
 *
 * <p>OpenAI names: {@code max_tokens} (chat also {@code max_completion_tokens}), {@code temperature} (0 = greedy),
 * {@code top_p}, {@code n}, {@code seed}, {@code stop} (string or list), {@code presence_penalty},
 * {@code frequency_penalty}, {@code logit_bias}, {@code logprobs} (completions: top-N; chat: boolean plus
 * {@code top_logprobs}). Common extensions (vLLM's names): {@code top_k}, {@code min_p},
 * {@code repetition_penalty}, {@code num_beams} (beam search; {@code n} ≤ {@code num_beams}).
 */
public record SamplingParams(Integer maxTokens, Float temperature, Integer topK, Float topP, Float minP,
                             Float repetitionPenalty, Float presencePenalty, Float frequencyPenalty, Long seed,
                             List<String> stop, Integer n, Integer numBeams, Integer logprobs,
                             Map<Integer, Float> logitBias) {
    public SamplingParams {
        stop = stop == null ? null : List.copyOf(stop);
        logitBias = logitBias == null ? null : Map.copyOf(logitBias);
    }

    /** Nothing set. */
    public static SamplingParams none() {
        return new SamplingParams(null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** A copy with {@code max_tokens} set. */
    public SamplingParams withMaxTokens(Integer v) {
        return new SamplingParams(v, temperature, topK, topP, minP, repetitionPenalty, presencePenalty,
                frequencyPenalty, seed, stop, n, numBeams, logprobs, logitBias);
    }

    /** The knobs of a {@code /v1/completions} body (every other field is read by the caller). */
    static SamplingParams completions(Body b) {
        Integer logprobs = b.integer("logprobs", 0, 20);
        Integer bestOf = b.integer("best_of", 1, 128);
        SamplingParams p = common(b, b.integer("max_tokens", 0, Integer.MAX_VALUE), logprobs);
        if (bestOf != null && bestOf != (p.n == null ? 1 : p.n))
            throw ApiException.param("best_of = " + bestOf + " is not supported (only best_of = n); use n, or num_beams "
                    + "for beam search");
        return p;
    }

    /** The knobs of a {@code /v1/chat/completions} body. */
    static SamplingParams chat(Body b) {
        Integer max = b.integer("max_completion_tokens", 0, Integer.MAX_VALUE);
        Integer legacy = b.integer("max_tokens", 0, Integer.MAX_VALUE);
        if (max != null && legacy != null && !max.equals(legacy))
            throw ApiException.param("max_tokens (" + legacy + ") and max_completion_tokens (" + max + ") differ; give one");
        Boolean lp = b.bool("logprobs");
        Integer top = b.integer("top_logprobs", 0, 20);
        if (top != null && !Boolean.TRUE.equals(lp))
            throw ApiException.param("top_logprobs needs logprobs: true");
        return common(b, max != null ? max : legacy, Boolean.TRUE.equals(lp) ? (top == null ? 0 : top) : null);
    }

    private static SamplingParams common(Body b, Integer maxTokens, Integer logprobs) {
        if (maxTokens != null && maxTokens == 0)
            throw ApiException.param("max_tokens = 0 asks for no tokens; set max_tokens ≥ 1");
        Float temperature = b.number("temperature", 0, 2);
        Float topP = b.number("top_p", 0, 1);
        if (topP != null && topP == 0) throw ApiException.param("top_p = 0 keeps no token; use top_p in (0, 1] or temperature 0 for greedy");
        Integer n = b.integer("n", 1, 128);
        Long seed = b.longValue("seed");
        List<String> stop = b.strings("stop");
        if (stop != null)
            for (String s : stop) if (s.isEmpty()) throw ApiException.param("'stop' must not contain an empty string");
        Float presence = b.number("presence_penalty", -2, 2);
        Float frequency = b.number("frequency_penalty", -2, 2);
        Map<Integer, Float> bias = logitBias(b.get("logit_bias"));
        b.string("user");
        Integer topK = b.integer("top_k", 0, Integer.MAX_VALUE);
        Float minP = b.number("min_p", 0, 1);
        Float rep = b.number("repetition_penalty", 1e-6, 1e6);
        Integer beams = b.integer("num_beams", 1, 64);
        return new SamplingParams(maxTokens, temperature, topK, topP, minP, rep, presence, frequency, seed, stop, n,
                beams, logprobs, bias);
    }

    private static Map<Integer, Float> logitBias(JsonNode n) {
        if (n == null) return null;
        if (!n.isObject()) throw Body.type("logit_bias", "an object of token id → bias", n);
        Map<Integer, Float> out = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            var e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException ex) {
                throw ApiException.param("logit_bias key '" + e.getKey() + "' is not a token id");
            }
            if (id < 0) throw ApiException.param("logit_bias key " + id + " is not a token id (must be ≥ 0)");
            JsonNode v = e.getValue();
            if (!v.isNumber() || v.doubleValue() < -100 || v.doubleValue() > 100)
                throw ApiException.param("logit_bias[" + id + "] must be a number between -100 and 100, got " + v);
            out.put(id, v.floatValue());
        }
        return out;
    }

    /**
     * {@code base} (the model's generation_config.json) with the given knobs applied: temperature 0 means greedy,
     * temperature > 0, top_k, top_p or min_p turn sampling on; n is num_return_sequences.
     */
    public GenerationConfig applyTo(GenerationConfig base) {
        GenerationConfig c = base;
        if (maxTokens != null) c = c.maxNewTokens(maxTokens);
        if (temperature != null) c = c.temperature(temperature).doSample(temperature > 0);
        if (topK != null) c = c.topK(topK).doSample(true);
        if (topP != null) c = c.topP(topP).doSample(true);
        if (minP != null) c = c.minP(minP).doSample(true);
        if (temperature != null && temperature == 0) c = c.doSample(false);
        if (repetitionPenalty != null) c = c.repetitionPenalty(repetitionPenalty);
        if (presencePenalty != null) c = c.presencePenalty(presencePenalty);
        if (frequencyPenalty != null) c = c.frequencyPenalty(frequencyPenalty);
        if (logitBias != null) c = c.logitBias(logitBias);
        if (seed != null) c = c.seed(seed);
        if (stop != null) c = c.stopStrings(stop.toArray(String[]::new));
        if (numBeams != null) c = c.numBeams(numBeams);
        if (n != null) c = c.numReturnSequences(n);
        if (logprobs != null) c = c.logprobs(logprobs);
        return c;
    }

    /**
     * {@link #applyTo} for an API request: errors use OpenAI's names and say how to fix the request; sampling without
     * a {@code seed} draws a fresh one (as OpenAI and {@code cortado generate} do), so equal requests differ.
     */
    GenerationConfig forRequest(GenerationConfig base) {
        GenerationConfig c = applyTo(base);
        if (seed == null && c.doSample()) c = c.seed(java.util.concurrent.ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        int rows = c.numReturnSequences();
        if (rows > 1 && c.numBeams() == 1 && !c.sampling())
            throw ApiException.param("n = " + rows + " needs sampling (temperature > 0) or num_beams ≥ n: greedy decoding "
                    + "has one answer");
        if (rows > 1 && c.numBeams() > 1 && rows > c.numBeams())
            throw ApiException.param("n = " + rows + " is more than num_beams = " + c.numBeams() + "; raise num_beams or lower n");
        if (c.numBeams() > 1 && c.sampling())
            throw ApiException.param("sampling (temperature > 0, top_k, top_p or min_p) with num_beams = " + c.numBeams()
                    + (numBeams == null ? " (the model's generation_config.json)" : "") + " is not supported; set num_beams 1 "
                    + "to sample, or temperature 0 for beam search");
        try {
            return c.validate();
        } catch (CortadoException e) {
            throw ApiException.param(e.getMessage());
        }
    }
}
