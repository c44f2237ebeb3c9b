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
 * {@link DeviceRow} on the host (penalty over its ids, -inf for its bans, temperature) gives the chain's scores bit
 * for bit when the chain has no top-k/top-p, and the same kept set with them; chains with host-only processors have
 * no declarative form.
 */
class DeviceRowsTest {
    static void apply(DeviceRow d, float[] s) {
        for (int id : d.seen()) s[id] = s[id] < 0 ? s[id] * d.repetitionPenalty() : s[id] / d.repetitionPenalty();
        for (int id : d.banned()) s[id] = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < s.length; i++) s[i] = s[i] / d.temperature();
    }

    @Test
    void penaltiesBansAndTemperatureMatchTheChain() {
        Random r = new Random(9);
        int vocab = 64;
        GenerationConfig cfg = GenerationConfig.sampling(0.8f).topK(0).repetitionPenalty(1.3f).noRepeatNgramSize(2)
                .badWordsIds(List.of(List.of(5), List.of(9, 11))).minNewTokens(4).eosTokenIds(List.of(2));
        LogitsProcessorChain chain = LogitsProcessorChain.of(cfg);
        for (int trial = 0; trial < 50; trial++) {
            int[] prompt = r.ints(3 + r.nextInt(10), 0, 16).toArray();
            TokenHistory h = new TokenHistory(prompt, 100);
            for (int i = 0; i < r.nextInt(6); i++) h.append(r.nextInt(16));
            IntFunction<DeviceRow> rows = DeviceRows.of(chain, row -> h);
            assertNotNull(rows);
            float[] logits = new float[vocab];
            for (int i = 0; i < vocab; i++) logits[i] = (float) r.nextGaussian() * 3;
            float[] want = logits.clone(), got = logits.clone();
            chain.process(h, want);
            apply(rows.apply(0), got);
            for (int i = 0; i < vocab; i++) assertEquals(want[i], got[i], "trial " + trial + " id " + i);
        }
    }

    @Test
    void hostOnlyProcessorsHaveNoDeviceForm() {
        assertNull(DeviceRows.of(LogitsProcessorChain.of(GenerationConfig.greedy().logitBias(Map.of(3, 2f))), i -> null));
        assertNull(DeviceRows.of(LogitsProcessorChain.of(GenerationConfig.sampling(1f).minP(0.1f)), i -> null));
        assertNull(DeviceRows.of(LogitsProcessorChain.of(GenerationConfig.greedy()), i -> null), "empty chain: nothing to run");
    }
}
