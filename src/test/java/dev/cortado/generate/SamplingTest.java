package dev.cortado.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Seeded sampling: frequencies follow the processed distribution; same seed, same tokens. */
class SamplingTest {
    static final TableModel MODEL = new TableModel(TableModel.goldens());
    static final int[] PROMPT = {1, 5, 9};

    /** Chi-square goodness of fit of {@code n} draws against softmax(processed scores), at p = 0.001. */
    static void assertFollows(GenerationConfig cfg, long seed) {
        float[] raw = MODEL.logits(9, 5, 2);
        TokenHistory h = new TokenHistory(PROMPT, 40);
        float[] scores = raw.clone();
        LogitsProcessorChain.of(cfg).process(h, scores);
        double[] p = new double[scores.length];
        float[] sm = Warpers.softmax(scores);
        for (int i = 0; i < p.length; i++) p[i] = sm[i];
        int n = 40_000;
        int[] counts = new int[p.length];
        Xoshiro256 rng = new Xoshiro256(seed, 0);
        for (int i = 0; i < n; i++) counts[Sampler.sample(scores, rng)]++;
        double chi2 = 0, otherExpected = 0, otherObserved = 0;
        int df = -1, kept = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] == 0) {
                assertEquals(0, counts[i], "token " + i + " was filtered out but drawn");
                continue;
            }
            kept++;
            double e = n * p[i];
            if (e < 5) {
                otherExpected += e;
                otherObserved += counts[i];
                continue;
            }
            chi2 += (counts[i] - e) * (counts[i] - e) / e;
            df++;
        }
        if (otherExpected > 0) {
            chi2 += (otherObserved - otherExpected) * (otherObserved - otherExpected) / otherExpected;
            df++;
        }
        assertTrue(kept < p.length || cfg.topK() == 0, "the config should filter something");
        if (df < 1) return;
        double z = 3.09; // 0.999 quantile (Wilson-Hilferty)
        double crit = df * Math.pow(1 - 2.0 / (9 * df) + z * Math.sqrt(2.0 / (9 * df)), 3);
        assertTrue(chi2 < crit, "chi2 " + chi2 + " >= " + crit + " (df " + df + ") for " + cfg);
    }

    @Test
    void topK() {
        assertFollows(GenerationConfig.sampling(1f).topK(5), 1);
    }

    @Test
    void topP() {
        assertFollows(GenerationConfig.sampling(1f).topK(0).topP(0.8f), 2);
    }

    @Test
    void minP() {
        assertFollows(GenerationConfig.sampling(1f).topK(0).minP(0.05f), 3);
    }

    @Test
    void temperatureTopKTopP() {
        assertFollows(GenerationConfig.sampling(0.7f).topK(10).topP(0.9f), 4);
        assertFollows(GenerationConfig.sampling(1.8f).topK(12), 5);
    }

    @Test
    void typical() {
        assertFollows(GenerationConfig.sampling(1f).topK(0).typicalP(0.7f), 6);
    }

    static GenerationConfig sampling() {
        return GenerationConfig.sampling(1.2f).topK(0).maxNewTokens(20).eosTokenIds(List.of()).seed(42);
    }

    @Test
    void sameSeedSameTokens() {
        Generator g = new Generator(MODEL, null, sampling());
        int[] a = g.generateIds(new int[][] {PROMPT}).getFirst().ids();
        int[] b = g.generateIds(new int[][] {PROMPT}).getFirst().ids();
        assertArrayEquals(a, b);
        assertEquals(20, a.length);
        int[] c = g.withConfig(sampling().seed(43)).generateIds(new int[][] {PROMPT}).getFirst().ids();
        assertFalse(java.util.Arrays.equals(a, c), "another seed should give other tokens");
        // documented PRNG: xoshiro256** seeded by SplitMix64; these numbers must never change
        Xoshiro256 rng = new Xoshiro256(42, 0);
        long first = rng.nextLong();
        assertEquals(first, new Xoshiro256(42, 0).nextLong());
        assertNotEquals(first, new Xoshiro256(42, 1).nextLong());
    }

    @Test
    void prngIsPinned() {
        // xoshiro256** seeded by SplitMix64 (seed 0, stream 0), values cross-checked with an independent Python
        // implementation: a refactor must not silently change every seeded output
        Xoshiro256 rng = new Xoshiro256(0, 0);
        assertEquals(-7355399402456485196L, rng.nextLong());
        assertEquals(-4652746763540216534L, rng.nextLong());
    }

    @Test
    void batchedSamplingEqualsOneByOne() {
        GenerationConfig cfg = sampling().numReturnSequences(3).eosTokenId(2).maxNewTokens(12);
        Generator g = new Generator(MODEL, null, cfg);
        int[][] prompts = {{1, 5, 9}, {1, 17}, {1, 4, 22, 13, 8}};
        List<GenerationResult> batch = g.generateIds(prompts);
        assertEquals(9, batch.size());
        for (int i = 0; i < prompts.length; i++) {
            List<GenerationResult> alone = g.generateIds(new int[][] {prompts[i]});
            for (int j = 0; j < 3; j++) assertArrayEquals(alone.get(j).ids(), batch.get(i * 3 + j).ids());
        }
        assertFalse(java.util.Arrays.equals(batch.get(0).ids(), batch.get(1).ids())
                && java.util.Arrays.equals(batch.get(1).ids(), batch.get(2).ids()), "return sequences differ");
    }

    @Test
    void temperatureZeroIsGreedy() {
        GenerationConfig greedy = GenerationConfig.greedy().maxNewTokens(10).eosTokenId(31);
        int[] want = new Generator(MODEL, null, greedy).generateIds(new int[][] {PROMPT}).getFirst().ids();
        int[] got = new Generator(MODEL, null, greedy.doSample(true).temperature(0f)).generateIds(new int[][] {PROMPT})
                .getFirst().ids();
        assertArrayEquals(want, got);
    }
}
