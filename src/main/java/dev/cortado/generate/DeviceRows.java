package dev.cortado.generate;

import dev.cortado.backend.TokenChoice.DeviceRow;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The declarative form ({@link DeviceRow}) of a processor chain, for a backend that runs the processors in kernels:
 * repetition penalty, bans (no-repeat n-gram, bad words, min new tokens: the banned ids follow from the history
 * alone), temperature, top-k and top-p with min_tokens_to_keep 1. Null when the chain holds anything else (logit
 * bias, presence/frequency penalties, forced tokens, constraints, model processors, min-p, typical-p,
 * renormalization); the backend then runs the host chain.
 */
final class DeviceRows {
    private DeviceRows() {}

    static IntFunction<DeviceRow> of(LogitsProcessorChain chain, IntFunction<TokenHistory> history) {
        if (chain.isEmpty()) return null;
        for (LogitsProcessor p : chain.processors()) if (!expressible(p)) return null;
        return r -> row(chain, history.apply(r));
    }

    private static boolean expressible(LogitsProcessor p) {
        return switch (p) {
            case Processors.RepetitionPenalty ignored -> true;
            case Processors.NoRepeatNgram ignored -> true;
            case Processors.MinNewTokens ignored -> true;
            case Processors.SequenceBias b -> b.bansOnly();
            case Warpers.Temperature ignored -> true;
            case Warpers.TopK k -> k.minKeep() <= 1;
            case Warpers.TopP t -> t.minKeep() <= 1;
            default -> false;
        };
    }

    private static DeviceRow row(LogitsProcessorChain chain, TokenHistory h) {
        float penalty = 1f, temperature = 1f, topP = 1f;
        int topK = 0;
        int[] seen = new int[0];
        List<Integer> banned = new ArrayList<>();
        for (LogitsProcessor p : chain.processors()) {
            switch (p) {
                case Processors.RepetitionPenalty rp -> {
                    penalty = rp.penalty();
                    seen = java.util.Arrays.stream(h.toArray()).distinct().toArray();
                }
                case Processors.NoRepeatNgram ng -> banned.addAll(ng.banned(h));
                case Processors.MinNewTokens mn -> {
                    if (h.generatedLength() < mn.min()) banned.addAll(mn.eos());
                }
                case Processors.SequenceBias b -> banned.addAll(b.banned(h));
                case Warpers.Temperature t -> temperature = t.temperature();
                case Warpers.TopK k -> topK = k.topK();
                case Warpers.TopP t -> topP = t.topP();
                default -> throw new IllegalStateException("no device form for " + p);
            }
        }
        return new DeviceRow(penalty, seen, banned.stream().mapToInt(Integer::intValue).toArray(), temperature, topK,
                topP);
    }
}
