package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.Choices;
import dev.cortado.backend.HostChoice;
import dev.cortado.backend.TokenChoice;
import dev.cortado.backend.TokenChoice.DeviceRow;
import dev.cortado.generate.ChainRows;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.TokenHistory;
import dev.cortado.generate.Warpers;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA token choice against the CPU reference ({@link HostChoice}) on the same logits: greedy with penalty and
 * bans, a draw confined to one token by top-k 1, and beam top-k candidates (ids, source beams exactly; scores within
 * fp32 log-softmax rounding). Logits are well separated so fp32-vs-double rounding cannot swap a choice. Skips
 * without a GPU.
 *
 * <p>The processors that gained a device form (logit bias, presence/frequency penalties, min-p, typical-p) are
 * checked through the generation chain itself ({@link ChainRows}: the host chain is the reference, the device form
 * is what the generation loop hands the backend): greedy picks and beam candidates exactly, and draws at uniforms
 * chosen in the middle of a kept token's host interval (so fp32 sums cannot move the pick), with min-p / typical-p
 * set between two well-separated host thresholds. The host part of each case (the host picks the intended token)
 * runs before the GPU check, so it is exercised on machines without one.
 */
@Tag("gpu")
class CudaChoiceGpuTest {
    static float[] logits(int rows, int vocab, long seed) {
        Random r = new Random(seed);
        float[] x = new float[rows * vocab];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * 4;
        return x;
    }

    /** The host form of a {@link DeviceRow} (penalty, bans, temperature), as the generation chain applies it. */
    static TokenChoice.RowProcessor host(DeviceRow d) {
        return (row, s) -> {
            for (int id : d.seen()) s[id] = s[id] < 0 ? s[id] * d.repetitionPenalty() : s[id] / d.repetitionPenalty();
            for (int id : d.banned()) s[id] = Float.NEGATIVE_INFINITY;
            if (d.temperature() != 1f) for (int i = 0; i < s.length; i++) s[i] = s[i] / d.temperature();
        };
    }

    @Test
    void greedyWithProcessorsMatchesTheHost() {
        CudaBackendGpuTest.requireGpu();
        int rows = 3, vocab = 32000;
        float[] x = logits(rows, vocab, 1);
        for (int r = 0; r < rows; r++) {
            int best = HostChoice.argmax(java.util.Arrays.copyOfRange(x, r * vocab, (r + 1) * vocab));
            x[r * vocab + (best + 1) % vocab] = x[r * vocab + best] - 0.01f;   // the runner-up, then ban the best
        }
        try (CudaBackend be = new CudaBackend(0)) {
            Tensor t = be.fromHost(x, rows, vocab);
            int best = HostChoice.argmax(java.util.Arrays.copyOfRange(x, 0, vocab));
            DeviceRow d = new DeviceRow(1.5f, new int[] {3, 4, 5}, new int[] {best}, 1f, 0, 1f);
            TokenChoice dev = TokenChoice.greedy(host(d), i -> d, null, -1);
            Choices got = be.choose(t, dev), want = HostChoice.choose(x, rows, vocab, dev);
            assertArrayEquals(want.ids(), got.ids());
            for (int i = 0; i < rows; i++) assertEquals(want.logprobs()[i], got.logprobs()[i], 1e-4);
        }
    }

    @Test
    void topKOneDrawsTheArgmax() {
        CudaBackendGpuTest.requireGpu();
        int rows = 4, vocab = 5000;
        float[] x = logits(rows, vocab, 2);
        try (CudaBackend be = new CudaBackend(0)) {
            DeviceRow d = new DeviceRow(1f, new int[0], new int[0], 0.7f, 1, 1f);
            TokenChoice c = TokenChoice.sample(host(d), i -> d, i -> () -> 0.37, null, -1);
            Choices got = be.choose(be.fromHost(x, rows, vocab), c);
            for (int r = 0; r < rows; r++)
                assertEquals(HostChoice.argmax(java.util.Arrays.copyOfRange(x, r * vocab, (r + 1) * vocab)), got.ids()[r]);
        }
    }

    @Test
    void beamCandidatesMatchTheHost() {
        CudaBackendGpuTest.requireGpu();
        int beams = 4, groups = 3, rows = beams * groups, vocab = 8000, k = 2 * beams;
        float[] x = logits(rows, vocab, 3);
        float[] run = new float[rows];
        Random r = new Random(4);
        for (int i = 0; i < rows; i++) run[i] = (float) (-r.nextDouble() * 5);
        DeviceRow d = new DeviceRow(1.2f, new int[] {1, 2, 3}, new int[] {10, 11}, 1f, 0, 1f);
        try (CudaBackend be = new CudaBackend(0)) {
            TokenChoice c = TokenChoice.beam(host(d), i -> d, null, beams, k, run, -1);
            Choices got = be.choose(be.fromHost(x, rows, vocab), c), want = HostChoice.choose(x, rows, vocab, c);
            assertArrayEquals(want.ids(), got.ids());
            assertArrayEquals(want.sources(), got.sources());
            for (int i = 0; i < want.scores().length; i++) assertEquals(want.scores()[i], got.scores()[i], 1e-4);
        }
    }

    // ---- processors with a new device form, through the generation chain ----------------------------------------

    /** Greedy with logit bias, repetition and presence/frequency penalties, rows with their own histories. */
    @Test
    void greedyLogitBiasAndCountPenaltiesMatchTheHost() {
        int rows = 4, vocab = 32000;
        float[] x = logits(rows, vocab, 11);
        TokenHistory[] hs = new TokenHistory[rows];
        for (int r = 0; r < rows; r++) {
            int best = HostChoice.argmax(Arrays.copyOfRange(x, r * vocab, (r + 1) * vocab));
            int[] generated = new int[r + 1];
            Arrays.fill(generated, best);   // row r generated its argmax r + 1 times: the penalties demote it
            hs[r] = ChainRows.history(new int[] {1, 2, 3}, generated);
        }
        GenerationConfig cfg = GenerationConfig.greedy().logitBias(Map.of(17, 3f, 40, -2f)).repetitionPenalty(1.1f)
                .presencePenalty(0.9f).frequencyPenalty(0.7f);
        ChainRows cr = ChainRows.of(cfg, hs);
        assertNotNull(cr.device(), "logit bias and presence/frequency penalties have a device form");
        TokenChoice c = TokenChoice.greedy(cr.host(), cr.device(), null, -1);
        Choices want = HostChoice.choose(x, rows, vocab, c);
        CudaBackendGpuTest.requireGpu();
        try (CudaBackend be = new CudaBackend(0)) {
            Choices got = be.choose(be.fromHost(x, rows, vocab), c);
            assertArrayEquals(want.ids(), got.ids());
            for (int i = 0; i < rows; i++) assertEquals(want.logprobs()[i], got.logprobs()[i], 1e-4);
        }
    }

    @Test
    void minPDrawsMatchTheHost() {
        int vocab = 32000;
        float[] row = logits(1, vocab, 12);
        float temperature = 0.8f;
        float[] scaled = row.clone();
        for (int i = 0; i < vocab; i++) scaled[i] = scaled[i] / temperature;
        float minP = minPBetweenGaps(scaled);
        drawsMatchTheHost(GenerationConfig.sampling(temperature).topK(0).minP(minP), row, vocab, 48);
    }

    @Test
    void typicalPDrawsMatchTheHost() {
        int vocab = 32000;
        float[] row = logits(1, vocab, 13);
        Random r = new Random(16);   // a flat tail and a head of 24 tokens holding most of the mass
        for (int i = 0; i < vocab; i++) row[i] = row[i] * 0.1f;
        for (int j = 0; j < 24; j++) row[r.nextInt(vocab)] += 9f + (float) r.nextGaussian();
        float mass = typicalBetweenGaps(row.clone());
        drawsMatchTheHost(GenerationConfig.sampling(1f).topK(0).typicalP(mass), row, vocab, 48);
    }

    /** Every processor with a device form at once, in the chain's order, on one history. */
    @Test
    void everyDeviceProcessorTogetherMatchesTheHost() {
        int vocab = 32000;
        float[] row = logits(1, vocab, 14);
        for (int i = 0; i < vocab; i++) row[i] = row[i] * 0.6f;
        TokenHistory h = ChainRows.history(new int[] {5, 6, 7, 5}, 9, 9, 6, 12);
        // top-p is left out: its device threshold (fp32 sums) is checked in CudaSamplingGpuTest, and here a token at
        // its boundary could shift the intervals; top-k's threshold is exact (the same floats on both sides)
        GenerationConfig base = GenerationConfig.sampling(0.9f).topK(400)
                .logitBias(Map.of(17, 2f, 300, -1f)).repetitionPenalty(1.2f).presencePenalty(0.5f)
                .frequencyPenalty(0.3f).noRepeatNgramSize(2).badWordsIds(List.of(List.of(6, 12), List.of(77)))
                .eosTokenIds(List.of(2));
        float[] s = row.clone();
        ChainRows.of(base, h).host().process(0, s);
        float minP = minPBetweenGaps(s);
        GenerationConfig withMinP = base.minP(minP);
        float[] t = row.clone();
        ChainRows.of(withMinP, h).host().process(0, t);
        float mass = typicalBetweenGaps(t);
        drawsMatchTheHost(withMinP.typicalP(mass), row, vocab, 32, h);
    }

    /** min-p 0 and typical-p 1 passed as values give the draw of the kernel without them (today's CUDA draw). */
    @Test
    void disabledWarpersKeepTheDraw() {
        CudaBackendGpuTest.requireGpu();
        int rows = 64, vocab = 5000;
        float[] x = logits(rows, vocab, 15);
        float[] u = new float[rows], zeros = new float[rows], ones = new float[rows];
        Arrays.fill(ones, 1f);
        for (int i = 0; i < rows; i++) u[i] = (i + 0.5f) / rows;
        CudaContext ctx = GpuTestSupport.context();
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            long dx = sc.upload(DType.F32, x), du = sc.upload(DType.F32, u), out = sc.alloc(4L * rows).address();
            ctx.kernels().sampling().sample(DType.F32, out, dx, du, 0, 0, rows, vocab, 40, 0.9f, null);
            int[] before = sc.downloadInts(out, rows);
            ctx.kernels().sampling().sample(DType.F32, out, dx, du, 0, 0, sc.upload(DType.F32, zeros),
                    sc.upload(DType.F32, ones), rows, vocab, 40, 0.9f, null);
            assertArrayEquals(before, sc.downloadInts(out, rows));
        }
    }

    private static void drawsMatchTheHost(GenerationConfig cfg, float[] row, int vocab, int maxRows) {
        drawsMatchTheHost(cfg, row, vocab, maxRows, ChainRows.history(new int[] {1, 2, 3}));
    }

    /**
     * Rows = copies of {@code row} with one history; row r draws at the middle of the host interval of the r-th
     * kept token (probability > 1e-3), so the host picks that token; the device must pick the same.
     */
    private static void drawsMatchTheHost(GenerationConfig cfg, float[] row, int vocab, int maxRows, TokenHistory h) {
        float[] s = row.clone();
        ChainRows.of(cfg, h).host().process(0, s);
        double max = Double.NEGATIVE_INFINITY;
        for (float v : s) max = Math.max(max, v);
        double sum = 0;
        double[] p = new double[vocab];
        for (int i = 0; i < vocab; i++) sum += p[i] = Math.exp(s[i] - max);
        List<double[]> picks = new ArrayList<>();   // (u, token)
        double acc = 0;
        for (int i = 0; i < vocab; i++) {
            if (p[i] / sum > 1e-3) picks.add(new double[] {(acc + p[i] / 2) / sum, i});
            acc += p[i];
        }
        assertTrue(picks.size() >= 2, "the case keeps several tokens: " + picks.size());
        int rows = Math.min(maxRows, picks.size());
        float[] x = new float[rows * vocab];
        TokenHistory[] hs = new TokenHistory[rows];
        double[] u = new double[rows];
        int[] expected = new int[rows];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(row, 0, x, r * vocab, vocab);
            hs[r] = h;
            double[] pick = picks.get((int) ((long) r * picks.size() / rows));
            u[r] = pick[0];
            expected[r] = (int) pick[1];
        }
        ChainRows cr = ChainRows.of(cfg, hs);
        assertNotNull(cr.device(), cfg + " has a device form");
        TokenChoice c = TokenChoice.sample(cr.host(), cr.device(), r -> () -> u[r], null, -1);
        Choices want = HostChoice.choose(x, rows, vocab, c);
        assertArrayEquals(expected, want.ids(), "the host draws the token whose interval holds u");
        CudaBackendGpuTest.requireGpu();
        try (CudaBackend be = new CudaBackend(0)) {
            Choices got = be.choose(be.fromHost(x, rows, vocab), c);
            assertArrayEquals(want.ids(), got.ids(), cfg.toString());
            for (int i = 0; i < rows; i++) assertEquals(want.logprobs()[i], got.logprobs()[i], 1e-4);
        }
    }

    /** A min-p between two consecutive probability ratios at least 5 % apart (among the 64 likeliest tokens). */
    static float minPBetweenGaps(float[] s) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : s) max = Math.max(max, v);
        float[] sorted = s.clone();
        Arrays.sort(sorted);
        for (int j = 4; j < 64; j++) {
            double hi = Math.exp(sorted[sorted.length - 1 - j] - max), lo = Math.exp(sorted[sorted.length - 2 - j] - max);
            if (hi / lo > 1.05 && lo > 1e-3) return (float) Math.sqrt(hi * lo);
        }
        throw new AssertionError("no gap for min-p in the first 64 tokens");
    }

    /**
     * A typical-p mass halfway between two consecutive host cumulative masses at least 0.01 apart, whose shifted
     * values are apart too (so fp32 cannot reorder the two tokens).
     */
    static float typicalBetweenGaps(float[] s) {
        float[] lp = Warpers.logSoftmax(s);
        double ent = 0;
        for (float v : lp) if (v != Float.NEGATIVE_INFINITY) ent -= v * Math.exp(v);
        float entropy = (float) ent;
        float[] shifted = new float[s.length];
        for (int i = 0; i < s.length; i++) shifted[i] = Math.abs(-lp[i] - entropy);
        int[] order = dev.cortado.backend.Selection.ascending(shifted);
        double cum = 0;
        for (int j = 0; j + 1 < order.length; j++) {
            cum += Math.exp(lp[order[j]]);
            double next = cum + Math.exp(lp[order[j + 1]]);
            boolean apart = shifted[order[j + 1]] - shifted[order[j]] > 1e-3f * Math.max(1f, shifted[order[j + 1]]);
            if (cum >= 0.3 && next <= 0.95 && next - cum > 0.01 && apart) return (float) ((cum + next) / 2);
        }
        throw new AssertionError("no gap for typical-p");
    }
}
