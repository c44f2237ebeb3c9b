package dev.cortado.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.cortado.backend.TokenChoice.DeviceRow;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * The declarative form a device backend runs ({@link DeviceRows}) means what the host chain does: applying a
 * {@link DeviceRow} on the host in the kernels' order and arithmetic (logit bias x + b, repetition penalty over its
 * ids, x − (presence + frequency · count) over its (id, count) pairs, -inf for its bans, temperature) gives the
 * chain's scores bit for bit when the chain has no top-k/top-p/min-p/typical-p; chains with host-only processors
 * (constraints, forced tokens, renormalization) or in another order have no declarative form.
 */
class DeviceRowsTest {
    /** The kernels' arithmetic (logits.cu: logit_bias, repetition_penalty_ids, count_penalty, ban_tokens, temperature). */
    static void apply(DeviceRow d, float[] s) {
        for (int i = 0; i < d.biasIds().length; i++) s[d.biasIds()[i]] = s[d.biasIds()[i]] + d.biasValues()[i];
        for (int id : d.seen()) s[id] = s[id] < 0 ? s[id] * d.repetitionPenalty() : s[id] / d.repetitionPenalty();
        if (d.presence() != 0f || d.frequency() != 0f)
            for (int i = 0; i < d.countIds().length; i++)
                s[d.countIds()[i]] = s[d.countIds()[i]] - (d.presence() + d.frequency() * (float) d.counts()[i]);
        for (int id : d.banned()) s[id] = Float.NEGATIVE_INFINITY;
        if (d.temperature() != 1f) for (int i = 0; i < s.length; i++) s[i] = s[i] / d.temperature();
    }

    static TokenHistory history(Random r, int vocabUsed) {
        int[] prompt = r.ints(3 + r.nextInt(10), 0, vocabUsed).toArray();
        TokenHistory h = new TokenHistory(prompt, 100);
        int n = r.nextInt(8);
        for (int i = 0; i < n; i++) h.append(r.nextInt(vocabUsed));
        return h;
    }

    @Test
    void penaltiesBansAndTemperatureMatchTheChain() {
        Random r = new Random(9);
        int vocab = 64;
        GenerationConfig cfg = GenerationConfig.sampling(0.8f).topK(0).repetitionPenalty(1.3f).noRepeatNgramSize(2)
                .badWordsIds(List.of(List.of(5), List.of(9, 11))).minNewTokens(4).eosTokenIds(List.of(2));
        check(cfg, r, vocab, 50);
    }

    @Test
    void logitBiasAndPresenceFrequencyPenaltiesMatchTheChainBitForBit() {
        Random r = new Random(10);
        int vocab = 64;
        GenerationConfig cfg = GenerationConfig.sampling(0.7f).topK(0)
                .logitBias(Map.of(3, 2.5f, 7, -100f, 12, 0.3f, 15, Float.NEGATIVE_INFINITY))
                .repetitionPenalty(1.2f).presencePenalty(0.6f).frequencyPenalty(0.37f).noRepeatNgramSize(3)
                .badWordsIds(List.of(List.of(4, 6))).eosTokenIds(List.of(2));
        check(cfg, r, vocab, 200);
        check(GenerationConfig.greedy().frequencyPenalty(-1.3f), r, vocab, 50);   // frequency alone, negative
        check(GenerationConfig.greedy().presencePenalty(1.1f).logitBias(Map.of(1, -0.5f)), r, vocab, 50);
    }

    private static void check(GenerationConfig cfg, Random r, int vocab, int trials) {
        LogitsProcessorChain chain = LogitsProcessorChain.of(cfg);
        for (int trial = 0; trial < trials; trial++) {
            TokenHistory h = history(r, 16);
            IntFunction<DeviceRow> rows = DeviceRows.of(chain, row -> h);
            assertNotNull(rows, cfg.toString());
            float[] logits = new float[vocab];
            for (int i = 0; i < vocab; i++) logits[i] = (float) r.nextGaussian() * 3;
            float[] want = logits.clone(), got = logits.clone();
            chain.process(h, want);
            apply(rows.apply(0), got);
            for (int i = 0; i < vocab; i++)
                assertEquals(want[i], got[i], "trial " + trial + " id " + i);   // bit for bit (floatToIntBits)
        }
    }

    @Test
    void warpersAreDescribed() {
        GenerationConfig cfg = GenerationConfig.sampling(0.9f).topK(30).topP(0.8f).minP(0.05f).typicalP(0.9f);
        DeviceRow d = DeviceRows.of(LogitsProcessorChain.of(cfg), i -> new TokenHistory(new int[] {1}, 10)).apply(0);
        assertEquals(0.9f, d.temperature());
        assertEquals(30, d.topK());
        assertEquals(0.8f, d.topP());
        assertEquals(0.05f, d.minP());
        assertEquals(0.9f, d.typicalP());
    }

    @Test
    void hostOnlyProcessorsHaveNoDeviceForm() {
        assertNull(DeviceRows.of(LogitsProcessorChain.of(GenerationConfig.greedy().forcedBosTokenId(3)), i -> null));
        assertNull(DeviceRows.of(LogitsProcessorChain.of(GenerationConfig.greedy().repetitionPenalty(1.2f)
                .renormalizeLogits(true)), i -> null));
        assertNull(DeviceRows.of(LogitsProcessorChain.of(GenerationConfig.greedy()), i -> null), "empty chain: nothing to run");
        assertNull(DeviceRows.of(new LogitsProcessorChain(List.of(new WhisperProcessors.SuppressTokens(new int[] {1}))),
                i -> null), "model processors stay on the host");
        // out of the device's order: temperature before the repetition penalty
        assertNull(DeviceRows.of(new LogitsProcessorChain(List.of(new Warpers.Temperature(0.5f),
                new Processors.RepetitionPenalty(1.2f))), i -> null));
        // a bias that is not first in the chain, and a warper keeping more than one token (sampling beams)
        assertNull(DeviceRows.of(new LogitsProcessorChain(List.of(new Processors.RepetitionPenalty(1.2f),
                Processors.SequenceBias.logitBias(Map.of(3, 1f)))), i -> null));
        assertNull(DeviceRows.of(new LogitsProcessorChain(List.of(new Warpers.MinP(0.1f, 2))), i -> null));
    }
}
