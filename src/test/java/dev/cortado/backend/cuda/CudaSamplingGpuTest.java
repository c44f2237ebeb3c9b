package dev.cortado.backend.cuda;

import static dev.cortado.backend.cuda.GpuTestSupport.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.tensor.DType;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Tag;

/** argmax, top-k / top-p sampling and the logits processors against Java references; skips without a GPU. */
@Tag("gpu")
class CudaSamplingGpuTest {

    static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (x[off + i] > x[off + best]) best = i;
        return best;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void argmaxTakesTheFirstMaximum(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        int rows = 5, vocab = 32000;
        float[] x = random(new Random(31), t, rows * vocab, 10);
        x[vocab + 10] = 50;
        x[vocab + 20] = 50;                      // tie: index 10 wins
        Arrays.fill(x, 2 * vocab, 3 * vocab, Float.NEGATIVE_INFINITY);
        x[3 * vocab + vocab - 1] = 60;           // last index
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            long out = sc.alloc(4L * rows).address();
            ctx.kernels().sampling().argmax(t, out, sc.upload(t, x), rows, vocab, null);
            int[] got = sc.downloadInts(out, rows);
            for (int r = 0; r < rows; r++) assertEquals(argmax(x, r * vocab, vocab), got[r], "row " + r);
            assertEquals(10, got[1]);
            assertEquals(0, got[2]);
            assertEquals(vocab - 1, got[3]);
        }
    }

    /**
     * Checks one sampled token against HF semantics in fp64: it must be kept by top-k (>= k-th largest) and top-p
     * (mass strictly above < p * Z), and the uniform must fall in its slice of the renormalized CDF in vocabulary
     * order. Tokens whose top-p decision is within rounding of the threshold make the row "ambiguous": then only
     * membership is checked.
     */
    static void checkSample(float[] x, int off, int vocab, int k, float p, float u, int got, String what) {
        double m = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) m = Math.max(m, x[off + i]);
        double kth = Double.NEGATIVE_INFINITY;
        if (k > 0 && k < vocab) {
            float[] sorted = Arrays.copyOfRange(x, off, off + vocab);
            Arrays.sort(sorted);
            kth = sorted[vocab - k];
        }
        double[] e = new double[vocab];
        double z = 0;
        for (int i = 0; i < vocab; i++) {
            float v = x[off + i];
            e[i] = v == Float.NEGATIVE_INFINITY || v < kth ? 0 : Math.exp(v - m);
            z += e[i];
        }
        boolean[] keep = new boolean[vocab];
        boolean ambiguous = false;
        for (int i = 0; i < vocab; i++) {
            if (e[i] == 0) continue;
            if (p >= 1) {
                keep[i] = true;
                continue;
            }
            double above = 0;
            for (int j = 0; j < vocab; j++) if (x[off + j] > x[off + i]) above += e[j];
            keep[i] = above < p * z;
            if (Math.abs(above - p * z) < 1e-4 * z) ambiguous = true;
        }
        double[] ee = new double[vocab];
        double zz = 0;
        for (int i = 0; i < vocab; i++) {
            ee[i] = keep[i] ? e[i] : 0;
            zz += ee[i];
        }
        assertTrue(got >= 0 && got < vocab, what + ": token " + got);
        if (ambiguous) {
            assertTrue(e[got] > 0, what + ": token " + got + " is outside top-k");
            return;
        }
        assertTrue(keep[got], what + ": token " + got + " was filtered out by top-k / top-p");
        double lo = 0;
        for (int i = 0; i < got; i++) lo += ee[i];
        double hi = lo + ee[got], target = u * zz, slack = 1e-4 * zz;
        assertTrue(target >= lo - slack && target <= hi + slack,
                what + ": u " + u + " -> " + target + " but token " + got + " covers [" + lo + ", " + hi + ")");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void topKTopPSamplingFollowsTheRenormalizedDistribution(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        Random r = new Random(32);
        int rows = 64, vocab = 1000;
        float[] x = random(r, t, rows * vocab, 4);
        float[] u = new float[rows];
        for (int i = 0; i < rows; i++) u[i] = (i + 0.5f) / rows;
        int[][] settings = {{1, 100}, {0, 0}, {5, 100}, {0, 90}, {50, 80}, {1000, 100}, {3, 50}};
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            long dx = sc.upload(t, x), du = sc.upload(DType.F32, u), out = sc.alloc(4L * rows).address();
            for (int[] s : settings) {
                int k = s[0];
                float p = s[1] / 100f;
                if (s[1] == 0) p = 1e-6f;
                ctx.kernels().sampling().sample(t, out, dx, du, 0, 0, rows, vocab, k, p, null);
                int[] got = sc.downloadInts(out, rows);
                for (int row = 0; row < rows; row++) {
                    String what = t + " k=" + k + " p=" + p + " row " + row;
                    if (k == 1 || s[1] == 0) {  // only the maximum survives (ties at the maximum all do, as in HF)
                        assertEquals(x[row * vocab + argmax(x, row * vocab, vocab)], x[row * vocab + got[row]], what);
                    }
                    checkSample(x, row * vocab, vocab, k, p, u[row], got[row], what);
                }
            }
            // per-row settings
            int[] ks = new int[rows];
            float[] ps = new float[rows];
            for (int i = 0; i < rows; i++) {
                ks[i] = i % 7;
                ps[i] = 0.5f + (i % 5) * 0.1f;
            }
            ctx.kernels().sampling().sample(t, out, dx, du, sc.upload(ks), sc.upload(DType.F32, ps), rows, vocab, 0, 1f,
                    null);
            int[] got = sc.downloadInts(out, rows);
            for (int row = 0; row < rows; row++) {
                checkSample(x, row * vocab, vocab, ks[row], ps[row], u[row], got[row], t + " per-row " + row);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void processorsTemperatureRepetitionPenaltyAndSuppression(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        int rows = 4, vocab = 1000;
        float[] x = random(new Random(33), t, rows * vocab, 5);
        float[] temps = {0.5f, 1f, 0f, 2f};
        int[] ids = {5, 5, 7, -1, 0, 999, 999, 3, 1, 2, 3, 4, 6, 6, 6, 6};   // [rows, 4], duplicates, a pad
        int[] suppress = {2, 9};
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            long dx = sc.upload(t, x);
            long seen = sc.zeros((long) rows * vocab);
            SamplingKernels s = ctx.kernels().sampling();
            s.markTokens(seen, sc.upload(ids), rows, vocab, 4, 4, null);
            s.repetitionPenalty(t, dx, seen, 0, rows, vocab, 1.3f, null);
            s.suppressTokens(t, dx, sc.upload(suppress), suppress.length, rows, vocab, null);
            s.temperature(t, dx, sc.upload(DType.F32, temps), rows, vocab, 1f, null);
            float[] want = x.clone();
            for (int r = 0; r < rows; r++) {
                boolean[] marked = new boolean[vocab];
                for (int i = 0; i < 4; i++) if (ids[r * 4 + i] >= 0) marked[ids[r * 4 + i]] = true;
                for (int v = 0; v < vocab; v++) {
                    int e = r * vocab + v;
                    float l = want[e];
                    if (marked[v]) l = GpuTestSupport.round(t, l < 0 ? l * 1.3f : l / 1.3f);
                    if (v == 2 || v == 9) l = Float.NEGATIVE_INFINITY;
                    if (temps[r] > 0 && temps[r] != 1) l = GpuTestSupport.round(t, l / temps[r]);
                    want[e] = l;
                }
            }
            float[] got = sc.download(t, dx, rows * vocab);
            double tol = GpuTestSupport.tol(t);
            for (int i = 0; i < got.length; i++) {
                boolean ok = Float.isInfinite(want[i]) ? got[i] == want[i]
                        : Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i]));
                assertTrue(ok, t + " logit " + i + ": got " + got[i] + " want " + want[i]);
            }
            byte[] seenHost = new byte[rows * vocab];
            ctx.synchronize();
            ctx.driver().memcpyDtoH(java.lang.foreign.MemorySegment.ofArray(seenHost), seen, seenHost.length);
            int marked = 0;
            for (byte b : seenHost) marked += b;
            assertEquals(2 + 3 + 4 + 1, marked, "distinct marked tokens (pads skipped, duplicates once)");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16"})
    void fullyMaskedRowsGiveTokenZeroNotGarbage(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        int vocab = 100;
        float[] x = new float[2 * vocab];
        Arrays.fill(x, Float.NEGATIVE_INFINITY);
        x[vocab + 42] = 1f;                                  // one live token
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            long out = sc.alloc(8).address();
            ctx.kernels().sampling().sample(t, out, sc.upload(t, x), sc.upload(DType.F32, new float[] {0.3f, 0.99f}),
                    0, 0, 2, vocab, 40, 0.9f, null);
            assertArrayEquals(new int[] {0, 42}, sc.downloadInts(out, 2));
        }
    }
}
