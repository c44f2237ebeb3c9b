package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.cortado.backend.Backend.Activation;
import dev.cortado.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The CPU backend gives the same bits whatever the machine's core count: an elementwise activation split over 1, 2,
 * 3, 5 or 16 threads equals one pass over the whole array (the vector body and the scalar tail round differently, so
 * chunk edges must not move elements between them; before, an element at a chunk edge of a 2-thread pool went through
 * the scalar tail and through the vector body on a 16-thread one). Lengths above the 2^14 serial cut-off, not
 * multiples of the vector length.
 *
 * <p>The test first lets C2 compile the activations: the Vector API's EXP/TANH are SVML intrinsics in compiled code
 * but {@code Math.exp}/{@code Math.tanh} per lane in the interpreter, which can differ in the last bit — a JIT-state
 * difference, not a thread-count one (it makes a whole model's logits differ in the last bit between a cold and a
 * warm JVM, so no whole-model bit-identity test here; see the closing note of stop 17).
 */
class ThreadCountDeterminismTest {
    static void warmUp() {
        float[] a = new float[4101]; // not a multiple of the vector length: the scalar tail is part of the profile
        for (int round = 0; round < 20_000; round++) {
            for (Activation act : Activation.values()) {
                for (int i = 0; i < a.length; i++) a[i] = (i % 97) * 0.1f - 4.8f;
                CpuActivations.apply(a, round % 2 == 0 ? 0 : 64, a.length, act);
            }
        }
    }

    @Test
    void activationsAreBitIdenticalForEveryThreadCount() {
        warmUp();
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
