package dev.cortado.generate;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Processors with no transformers counterpart (OpenAI penalties, logit bias) and chain order. */
class ProcessorsTest {
    @Test
    void presenceAndFrequencyPenaltiesCountGeneratedTokensOnly() {
        TokenHistory h = new TokenHistory(new int[] {1, 1, 1}, 20);
        h.append(2);
        h.append(2);
        h.append(3);
        float[] s = {0f, 0f, 0f, 0f};
        new Processors.PresenceFrequencyPenalty(0.5f, 0.25f).process(h, s);
        assertArrayEquals(new float[] {0f, 0f, -1.0f, -0.75f}, s, 1e-7f);
    }

    @Test
    void logitBiasAddsAndChainFollowsTransformersOrder() {
        GenerationConfig c = GenerationConfig.sampling(0.5f).topK(2).logitBias(Map.of(0, 10f))
                .repetitionPenalty(2f).noRepeatNgramSize(2).presencePenalty(1f).minNewTokens(1).eosTokenId(3);
        c.validate();
        List<Class<?>> order = LogitsProcessorChain.of(c).processors().stream().<Class<?>>map(Object::getClass).toList();
        assertEquals(List.of(Processors.SequenceBias.class, Processors.RepetitionPenalty.class,
                Processors.PresenceFrequencyPenalty.class, Processors.NoRepeatNgram.class,
                Processors.MinNewTokens.class, Warpers.Temperature.class, Warpers.TopK.class), order);
        TokenHistory h = new TokenHistory(new int[] {1}, 10);
        float[] s = {1f, 4f, -2f, 3f};
        LogitsProcessorChain.of(c).process(h, s);
        // bias: 11, 4, -2, 3; rep penalty on id 1: 2; min_new_tokens masks eos 3; /0.5: 22, 4, -4, -inf; top-2
        assertArrayEquals(new float[] {22f, 4f, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, s);
    }

    @Test
    void greedyChainHasNoWarpers() {
        GenerationConfig c = GenerationConfig.greedy().temperature(0.5f).topK(3).topP(0.5f);
        assertEquals(0, LogitsProcessorChain.of(c).processors().size());
    }
}
