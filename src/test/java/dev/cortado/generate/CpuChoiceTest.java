package dev.cortado.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.cortado.backend.Choices;
import dev.cortado.backend.HostChoice;
import dev.cortado.backend.TokenChoice;
import dev.cortado.backend.cpu.CpuBackend;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The CPU backend keeps choosing with the host chain when the processors that gained a device form (logit bias,
 * presence/frequency penalties, min-p, typical-p) are on: with the device form present its greedy picks, seeded draws
 * and beam candidates are bit for bit those of {@link HostChoice} over the host chain (whose results the
 * transformers goldens pin: GoldenGenerationTest, SamplingTest, ProcessorsTest).
 */
class CpuChoiceTest {
    static final GenerationConfig EVERYTHING = GenerationConfig.sampling(0.8f).topK(50).topP(0.95f).minP(0.02f)
            .typicalP(0.9f).logitBias(Map.of(3, 2f, 9, -1.5f)).repetitionPenalty(1.2f).presencePenalty(0.4f)
            .frequencyPenalty(0.3f).noRepeatNgramSize(2).badWordsIds(List.of(List.of(4, 5))).eosTokenIds(List.of(2));

    @Test
    void cpuBackendChoosesAsTheHostChain() {
        Random r = new Random(21);
        int rows = 6, vocab = 300;
        float[] x = new float[rows * vocab];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * 3;
        TokenHistory[] hs = new TokenHistory[rows];
        for (int i = 0; i < rows; i++) hs[i] = ChainRows.history(r.ints(5, 0, 20).toArray(), r.ints(i, 0, 20).toArray());
        try (CpuBackend be = new CpuBackend()) {
            for (GenerationConfig cfg : new GenerationConfig[] {EVERYTHING,
                    GenerationConfig.greedy().logitBias(Map.of(7, 4f)).presencePenalty(1f).frequencyPenalty(0.5f)}) {
                ChainRows cr = ChainRows.of(cfg, hs);
                assertNotNull(cr.device());
                long[] seeds = r.longs(rows).toArray();
                TokenChoice c = cfg.sampling()
                        ? TokenChoice.sample(cr.host(), cr.device(), i -> new Xoshiro256(seeds[i], 0)::nextDouble, null, -1)
                        : TokenChoice.greedy(cr.host(), cr.device(), null, -1);
                TokenChoice again = cfg.sampling()
                        ? TokenChoice.sample(cr.host(), null, i -> new Xoshiro256(seeds[i], 0)::nextDouble, null, -1)
                        : TokenChoice.greedy(cr.host(), null, null, -1);
                Choices got = be.choose(be.fromHost(x, rows, vocab), c), want = HostChoice.choose(x, rows, vocab, again);
                assertArrayEquals(want.ids(), got.ids(), cfg.toString());
                assertArrayEquals(want.logprobs(), got.logprobs(), cfg.toString());
            }
            int beams = 3;
            ChainRows cr = ChainRows.of(GenerationConfig.beam(beams).logitBias(Map.of(3, 1f)).presencePenalty(0.5f)
                    .frequencyPenalty(0.5f), hs);
            TokenChoice c = TokenChoice.beam(cr.host(), cr.device(), null, beams, 2 * beams, new float[rows], -1);
            Choices got = be.choose(be.fromHost(x, rows, vocab), c), want = HostChoice.choose(x, rows, vocab, c);
            assertArrayEquals(want.ids(), got.ids());
            assertArrayEquals(want.sources(), got.sources());
            assertArrayEquals(want.scores(), got.scores());
        }
    }
}
