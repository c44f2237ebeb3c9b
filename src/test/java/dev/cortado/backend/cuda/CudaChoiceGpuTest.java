package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cortado.backend.Choices;
import dev.cortado.backend.HostChoice;
import dev.cortado.backend.TokenChoice;
import dev.cortado.backend.TokenChoice.DeviceRow;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA token choice against the CPU reference ({@link HostChoice}) on the same logits: greedy with penalty and
 * bans, a draw confined to one token by top-k 1, and beam top-k candidates (ids, source beams exactly; scores within
 * fp32 log-softmax rounding). Logits are well separated so fp32-vs-double rounding cannot swap a choice. Skips
 * without a GPU.
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
}
