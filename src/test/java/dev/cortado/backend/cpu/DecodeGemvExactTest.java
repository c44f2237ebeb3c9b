package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The decode GEMV (float32 and bfloat16 panels, a tail of panels, a bias) through the pool gives the same bits with 1,
 * 2 and 3 threads: the float32 kernel reads one int-indexed slice per chunk, so the slices depend on the chunking;
 * the values must not.
 */
class DecodeGemvExactTest {
    private static Tensor weights(int k, int n, DType dt, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        if (dt == DType.BF16) {
            short[] a = new short[k * n];
            for (int i = 0; i < a.length; i++) a[i] = PackedWeight.toBf16((float) (r.nextDouble() * 2 - 1));
            return new Tensor(DType.BF16, new long[] {k, n}, MemorySegment.ofArray(a));
        }
        float[] a = new float[k * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return new Tensor(DType.F32, new long[] {k, n}, MemorySegment.ofArray(a));
    }

    private static float[] input(int k, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[k];
        for (int i = 0; i < k; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    @Test
    void gemvBitsDoNotDependOnThreads() {
        assumeTrue(Simd.VECTOR, "needs the Vector API");
        int k = 96, n = 23 * PackedMatmul.NR + 5;
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            try (Arena a = Arena.ofShared()) {
                PackedWeight w = PackedWeight.pack(weights(k, n, dt, 7), false, dt, a);
                float[] x = input(k, 8), bias = input(n, 9);
                float[] want = new float[n];
                PackedMatmul.matmul(x, w, bias, want, 1, new WorkerPool(1));
                for (int threads : new int[] {2, 3}) {
                    float[] got = new float[n];
                    PackedMatmul.matmul(x, w, bias, got, 1, new WorkerPool(threads));
                    assertArrayEquals(want, got, dt + " with " + threads + " threads");
                }
            }
        }
    }
}
