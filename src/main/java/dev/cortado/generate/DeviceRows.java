package dev.cortado.generate;

import dev.cortado.backend.TokenChoice.DeviceRow;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The declarative form ({@link DeviceRow}) of a processor chain, for a backend that runs the processors in kernels:
 * logit bias, repetition penalty, presence/frequency penalties, bans (no-repeat n-gram, bad words, min new tokens:
 * the banned ids follow from the history alone), temperature, top-k, top-p, min-p and typical-p with
 * min_tokens_to_keep 1. The device applies them in one fixed order (that of {@link DeviceRow}), which is the order
 * {@link LogitsProcessorChain#of} builds; a chain in another order, or with anything else, has no declarative form
 * (null) and the backend runs the host chain.
 *
 * <p>Host-only: forced BOS/EOS, renormalization, beam warpers that keep more than one token, the structured-output
 * constraint (its mask is an automaton state walked over the tokenizer's strings, kept on the host; see
 * {@link ConstraintProcessor}) and Whisper's timestamp rules (history-dependent branching and a log-sum-exp test
 * per step of a model-specific processor; see {@link WhisperProcessors}).
 */
final class DeviceRows {
    private DeviceRows() {}

    // the device's order of application; bans may repeat (n-gram, bad words, min new tokens)
    private static final int BIAS = 0, REPETITION = 1, COUNTS = 2, BANS = 3, TEMPERATURE = 4, TOP_K = 5, TOP_P = 6,
            MIN_P = 7, TYPICAL = 8;

    static IntFunction<DeviceRow> of(LogitsProcessorChain chain, IntFunction<TokenHistory> history) {
        if (chain.isEmpty()) return null;
        int last = -1;
        List<LogitsProcessor> ps = chain.processors();
        for (int i = 0; i < ps.size(); i++) {
            int rank = rank(ps.get(i), i);
            if (rank < 0 || rank < last || (rank == last && rank != BANS)) return null;
            last = rank;
        }
        return r -> row(chain, history.apply(r));
    }

    /** Where {@code p} (at chain index {@code at}) runs on the device; -1: nowhere. */
    private static int rank(LogitsProcessor p, int at) {
        return switch (p) {
            case Processors.SequenceBias b when at == 0 -> BIAS;   // logit_bias leads the chain
            case Processors.SequenceBias b -> b.bansOnly() ? BANS : -1;
            case Processors.RepetitionPenalty ignored -> REPETITION;
            case Processors.PresenceFrequencyPenalty ignored -> COUNTS;
            case Processors.NoRepeatNgram ignored -> BANS;
            case Processors.MinNewTokens ignored -> BANS;
            case Warpers.Temperature ignored -> TEMPERATURE;
            case Warpers.TopK k -> k.minKeep() <= 1 ? TOP_K : -1;
            case Warpers.TopP t -> t.minKeep() <= 1 ? TOP_P : -1;
            case Warpers.MinP m -> m.minKeep() <= 1 ? MIN_P : -1;
            case Warpers.Typical t -> t.minKeep() <= 1 ? TYPICAL : -1;
            default -> -1;
        };
    }

    private static DeviceRow row(LogitsProcessorChain chain, TokenHistory h) {
        float penalty = 1f, presence = 0f, frequency = 0f, temperature = 1f, topP = 1f, minP = 0f, typical = 1f;
        int topK = 0;
        int[] seen = new int[0], countIds = new int[0], counts = new int[0], biasIds = new int[0];
        float[] biasValues = new float[0];
        List<Integer> banned = new ArrayList<>();
        List<LogitsProcessor> ps = chain.processors();
        for (int i = 0; i < ps.size(); i++) {
            LogitsProcessor p = ps.get(i);
            boolean first = i == 0;
            switch (p) {
                case Processors.SequenceBias b when first -> {
                    Processors.SequenceBias.Matched m = b.matched(h);
                    biasIds = m.ids();
                    biasValues = m.values();
                }
                case Processors.SequenceBias b -> banned.addAll(b.banned(h));
                case Processors.RepetitionPenalty rp -> {
                    penalty = rp.penalty();
                    seen = java.util.Arrays.stream(h.toArray()).distinct().toArray();
                }
                case Processors.PresenceFrequencyPenalty pf -> {
                    presence = pf.presence();
                    frequency = pf.frequency();
                    int[][] c = pf.counts(h);
                    countIds = c[0];
                    counts = c[1];
                }
                case Processors.NoRepeatNgram ng -> banned.addAll(ng.banned(h));
                case Processors.MinNewTokens mn -> {
                    if (h.generatedLength() < mn.min()) banned.addAll(mn.eos());
                }
                case Warpers.Temperature t -> temperature = t.temperature();
                case Warpers.TopK k -> topK = k.topK();
                case Warpers.TopP t -> topP = t.topP();
                case Warpers.MinP m -> minP = m.minP();
                case Warpers.Typical t -> typical = t.mass();
                default -> throw new IllegalStateException("no device form for " + p);
            }
        }
        return new DeviceRow(biasIds, biasValues, penalty, seen, presence, frequency, countIds, counts,
                banned.stream().mapToInt(Integer::intValue).toArray(), temperature, topK, topP, minP, typical);
    }
}
