package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cortado.backend.KvView;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The attention kernels' tail paths (keys past the last full vector, head sizes that are not 1, 2, 4 or 8 vectors)
 * compute bit for bit what the per-element loops they replaced computed: a score is Σ_e q·k with separate multiply
 * and add, a weighted sum acc += (s·inv)·V fused per element, keys in order. The references below are those loops.
 */
class AttentionTailsExactTest {
    private static final VectorSpecies<Float> F = CpuMatmul.F;
    private static final int L = F.length();
    private final SplittableRandom r = new SplittableRandom(5);

    @BeforeEach
    void needsTheVectorApi() {
        assumeTrue(Simd.VECTOR, "the Vector API is not enabled in this JVM: nothing to compare");
    }

    private float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 4 - 2);
        return a;
    }

    /** The loops before the tail vector: full vectors fused, the rest one key at a time. */
    private static void scoresByElement(float[] q, int qo, float[] kt, float[] s, int d, int kvLen, int n, float scale) {
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector a = FloatVector.zero(F);
            for (int e = 0; e < d; e++) a = FloatVector.fromArray(F, kt, e * kvLen + j).fma(FloatVector.broadcast(F, q[qo + e]), a);
            a.mul(scale).intoArray(s, j);
        }
        for (; j < n; j++) {
            float dot = 0;
            for (int e = 0; e < d; e++) dot += q[qo + e] * kt[e * kvLen + j];
            s[j] = dot * scale;
        }
    }

    /** The per-key axpy the register accumulators replaced. */
    private static void weightedSumByKey(float[] s, float inv, int n, float[] v, KvView vv, float[] acc, int d) {
        for (int j = 0; j < n; j++) {
            float p = s[j] * inv;
            if (p == 0f) continue;
            int vo = (int) vv.offset(0, 0, j), e = 0;
            FloatVector pv = FloatVector.broadcast(F, p);
            for (; e <= d - L; e += L) FloatVector.fromArray(F, v, vo + e).fma(pv, FloatVector.fromArray(F, acc, e)).intoArray(acc, e);
            for (; e < d; e++) acc[e] += p * v[vo + e];
        }
    }

    @Test
    void scoreTailsMatchTheElementLoop() {
        for (int d : new int[] {8, 40, 48, 64, 80}) {
            for (int kvLen = 1; kvLen <= 3 * L + 3; kvLen++) {
                for (int n : new int[] {kvLen, Math.max(1, kvLen - 5)}) {
                    float[] q = rand(d), kt = rand(d * kvLen + VectorAttention.PAD);
                    float[] want = new float[kvLen + VectorAttention.PAD], got = new float[kvLen + VectorAttention.PAD];
                    scoresByElement(q, 0, kt, want, d, kvLen, n, 0.125f);
                    VectorAttention.scores(q, 0, kt, got, d, kvLen, n, 0.125f);
                    assertArrayEquals(java.util.Arrays.copyOf(want, n), java.util.Arrays.copyOf(got, n), "d " + d + " kvLen " + kvLen + " n " + n);
                }
            }
        }
    }

    @Test
    void weightedSumsMatchTheKeyLoop() {
        for (int d : new int[] {L + 3, 3 * L, 3 * L + 5, 5 * L, 6 * L, 12 * L + 1}) {
            if (d == L || d == 2 * L || d == 4 * L || d == 8 * L) continue;   // their own register path, unchanged
            for (int n : new int[] {1, 7, 20, 33}) {
                float[] s = rand(n), v = rand(n * d);
                for (int j = 0; j < n; j += 3) s[j] = 0f;   // skipped keys
                Tensor vt = new Tensor(DType.F32, new long[] {1, n, d}, MemorySegment.ofArray(v));
                KvView vv = KvView.ofRows(vt, n, 1, d);
                float[] want = new float[d], got = new float[d];
                weightedSumByKey(s, 0.3f, n, v, vv, want, d);
                VectorAttention.weightedSum(s, 0.3f, n, v, vv, 0, 0, got, d);
                assertArrayEquals(want, got, "d " + d + " n " + n);
            }
        }
    }
}
