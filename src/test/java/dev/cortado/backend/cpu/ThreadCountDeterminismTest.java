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
 */
class ThreadCountDeterminismTest {
    @Test
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
