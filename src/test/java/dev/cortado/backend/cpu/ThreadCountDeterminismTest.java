package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.cortado.backend.Backend.Activation;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import dev.cortado.tensor.Tensor;
import dev.cortado.testing.Fixtures;
import java.util.SplittableRandom;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The CPU backend gives the same bits whatever the machine's core count: an elementwise activation split over 1, 2,
 * 3, 5 or 16 threads equals one pass over the whole array (the vector body and the scalar tail round differently, so
 * chunk edges must not move elements between them; before, an element at a chunk edge of a 2-thread pool went through
 * the scalar tail and through the vector body on a 16-thread one). Lengths above the 2^14 serial cut-off, not
 * multiples of the vector length.
 *
 * <p>No warm-up: exp and tanh are {@link VectorMath}/{@link ScalarMath} (IEEE basic operations only), so the bits do
 * not depend on the JIT state either (before, the Vector API's EXP/TANH were SVML intrinsics in C2-compiled code and
 * {@code Math.exp}/{@code Math.tanh} per lane in the interpreter, which differ in the last bit: a cold JVM's logits
 * differed from a warm one's). The decoder test runs first in this class and compares a model's first (cold) call with
 * its 50th.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ThreadCountDeterminismTest {
    static final int CALLS = 50;

    /** The prompt, then 4 greedy steps: the logits of each step (5 rows). */
    static float[][] run(LanguageModel m, int[] prompt) {
        float[][] logits = new float[5][];
        try (DecoderSession s = m.newSession(1)) {
            logits[0] = s.step(new int[][] {prompt}, null)[0];
            for (int i = 1; i < logits.length; i++) logits[i] = s.step(new int[][] {{Fixtures.argmax(logits[i - 1])}}, null)[0];
        }
        return logits;
    }

    /**
     * Runs the step's elementwise kernels (activations with tails, softmax, LayerNorm) until C2 has compiled them, so
     * that "warm" means C2 code even for a tiny model whose 50 calls alone may not reach the compile thresholds.
     */
    static void warmKernels() {
        float[] a = new float[4101], s = new float[37], g = new float[64], out = new float[a.length];
        java.util.Arrays.fill(g, 1f);
        for (int round = 0; round < 20_000; round++) {
            for (int i = 0; i < s.length; i++) s[i] = (i % 13) * 0.7f - 4f;
            CpuAttention.softmaxInPlace(s, s.length);
            VectorAttention.softmaxInPlace(s, 0, s.length);
            CpuNorms.softmax(s, 0, s.length);
            CpuNorms.layerNorm(a, g, g, 1e-5f, out, 64, round % 64, round % 64 + 1);
            if (round % 8 == 0) {
                for (Activation act : Activation.values()) {
                    for (int i = 0; i < a.length; i++) a[i] = (i % 97) * 0.1f - 4.8f;
                    CpuActivations.apply(a, round % 16 == 0 ? 0 : 64, a.length, act);
                }
            }
        }
    }

    /**
     * A whole decoder (fixtures from transformers, every op forced onto the pool) gives bit-identical logits over a
     * prompt and 4 greedy steps whether the pool has 1, 2, 3 or 5 threads, and whether the JVM is cold (the first call,
     * interpreted / C1 code) or warm (the 50th call of each thread count, after {@link #warmKernels}).
     */
    @Test
    @Order(1)
    void decoderLogitsAreBitIdenticalForEveryThreadCountColdOrWarm() {
        for (String name : new String[] {"tiny-gpt2", "tiny-llama", "tiny-qwen2"}) {
            int[] prompt = Fixtures.ints(Fixtures.goldens(name).get("step_logits").get("cases").get(0).get("input_ids"));
            float[][] cold = null;
            for (int threads : new int[] {1, 2, 3, 5}) {
                if (cold != null && threads == 2) warmKernels(); // C2 has compiled the kernels before the 50th call
                try (LanguageModel m = Families.openDecoder(Fixtures.ROOT.resolve(name),
                        new CpuBackend(new WorkerPool(threads)).serialBelow(0), Families.Engine.CORTADO)) {
                    for (int call = 1; call <= CALLS; call++) {
                        float[][] logits = run(m, prompt);
                        if (cold == null) cold = logits;
                        else if (call == 1 || call == CALLS) {
                            for (int i = 0; i < logits.length; i++) {
                                assertArrayEquals(cold[i], logits[i], name + " step " + i + " threads " + threads + " call " + call);
                            }
                        }
                    }
                } catch (Exception e) {
                    throw new AssertionError(name + ": " + e, e);
                }
            }
        }
    }

    @Test
    @Order(2)
    void activationsAreBitIdenticalForEveryThreadCount() {
        SplittableRandom r = new SplittableRandom(17);
        int[] counts = {1, 2, 3, 5, 16};
        WorkerPool[] pools = new WorkerPool[counts.length];
        for (int i = 0; i < counts.length; i++) pools[i] = new WorkerPool(counts[i]);
        for (int n : new int[] {1 << 14, (1 << 14) + 1, 50_001, 3 * 5 * 7 * 11 * 13 + 7, 100_003}) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 12 - 6);
            for (Activation act : Activation.values()) {
                float[] reference = x.clone();
                CpuActivations.apply(reference, 0, n, act);
                for (int i = 0; i < counts.length; i++) {
                    Tensor t = Tensor.of(x.clone(), n);
                    new CpuBackend(pools[i]).activate(t, act);
                    assertArrayEquals(reference, t.toFloatArray(), act + " n=" + n + " threads=" + counts[i]);
                }
            }
        }
    }
}
