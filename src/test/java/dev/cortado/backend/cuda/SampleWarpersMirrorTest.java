package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.generate.TokenHistory;
import dev.cortado.generate.Warpers;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The min-p and typical-p formulation of kernels/sampling.cu (sample_*), replayed on the CPU in fp32 with the
 * kernel's steps, keeps the same tokens as the host warpers (transformers' MinPLogitsWarper and TypicalLogitsWarper,
 * {@link Warpers}), after top-k / top-p, on random logits: min-p as exp(x − max) ≥ min_p (no softmax pass), typical-p
 * as a binary search for the smallest |−log p − H| whose mass reaches the target (no sort). Trials whose host
 * decision sits within rounding of a boundary (a probability ratio within 1e-5 of min_p, a cumulative mass within
 * 1e-5 of typical_p) are skipped and counted. The device itself is checked against the host in CudaChoiceGpuTest.
 */
class SampleWarpersMirrorTest {
    /** sample_*'s kept set for x (earlier warpers' removals as -inf): min-p, then typical-p. */
    static boolean[] mirror(float[] x, float minP, float typical) {
        int n = x.length;
        float m = Float.NEGATIVE_INFINITY;
        for (float v : x) m = Math.max(m, v);
        float[] e = new float[n];
        for (int c = 0; c < n; c++) {
            e[c] = x[c] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(x[c] - m);
            if (minP > 0f && e[c] < minP) e[c] = 0f;
        }
        int lim = 0x7f800000;
        float[] shifted = new float[n];
        if (typical < 1f) {
            float z = 0f;
            for (float v : e) z += v;
            float logZ = (float) Math.log(z), h = 0f;
            for (int c = 0; c < n; c++) if (e[c] > 0f) h -= (e[c] / z) * ((x[c] - m) - logZ);
            for (int c = 0; c < n; c++) shifted[c] = Math.abs(-((x[c] - m) - logZ) - h);
            float target = typical * z;
            int lo = 0, hi = 0x7f800000;
            while (lo < hi) {
                int mid = lo + ((hi - lo) >>> 1);
                float mass = 0f;
                for (int c = 0; c < n; c++) if (e[c] > 0f && Float.floatToRawIntBits(shifted[c]) <= mid) mass += e[c];
                if (mass >= target) hi = mid;
                else lo = mid + 1;
            }
            lim = lo;
        }
        boolean[] keep = new boolean[n];
        for (int c = 0; c < n; c++) keep[c] = e[c] > 0f && (typical >= 1f || Float.floatToRawIntBits(shifted[c]) <= lim);
        return keep;
    }

    static boolean[] finite(float[] s) {
        boolean[] k = new boolean[s.length];
        for (int i = 0; i < s.length; i++) k[i] = s[i] != Float.NEGATIVE_INFINITY;
        return k;
    }

    /** Whether the host's typical-p decision is within rounding of a boundary (then fp32 may decide otherwise). */
    static boolean typicalNearBoundary(float[] s, float mass) {
        float[] lp = Warpers.logSoftmax(s);
        double ent = 0;
        for (float v : lp) if (v != Float.NEGATIVE_INFINITY) ent -= v * Math.exp(v);
        double[] sh = new double[s.length];
        Integer[] order = new Integer[s.length];
        for (int i = 0; i < s.length; i++) {
            sh[i] = Math.abs(-lp[i] - ent);
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(sh[a], sh[b]));
        double cum = 0;
        for (int i : order) {
            if (lp[i] == Float.NEGATIVE_INFINITY) break;
            cum += Math.exp(lp[i]);
            if (Math.abs(cum - mass) < 1e-5) return true;
        }
        return false;
    }

    static boolean minPNearBoundary(float[] s, float minP) {
        float m = Float.NEGATIVE_INFINITY;
        for (float v : s) m = Math.max(m, v);
        for (float v : s) if (v != Float.NEGATIVE_INFINITY && Math.abs(Math.exp(v - m) - minP) < 1e-5 * Math.max(minP, 1e-3)) return true;
        return false;
    }

    @Test
    void minPAndTypicalKeepTheHostWarpersTokens() {
        Random r = new Random(17);
        TokenHistory h = new TokenHistory(new int[] {1}, 10);
        float[] minPs = {0f, 0.01f, 0.05f, 0.2f};
        float[] typicals = {1f, 0.2f, 0.5f, 0.9f, 0.95f};
        int checked = 0, skipped = 0;
        for (int trial = 0; trial < 400; trial++) {
            int vocab = 50 + r.nextInt(700);
            float scale = 0.5f + r.nextFloat() * 4;
            float[] x = new float[vocab];
            for (int i = 0; i < vocab; i++) x[i] = (float) r.nextGaussian() * scale;
            float minP = minPs[trial % minPs.length], typical = typicals[(trial / minPs.length) % typicals.length];
            float[] s = x.clone();
            if (trial % 3 == 1) new Warpers.TopK(1 + r.nextInt(vocab), 1).process(h, s);
            if (trial % 3 == 2) new Warpers.TopP(0.5f + r.nextFloat() * 0.45f, 1).process(h, s);
            float[] warped = s.clone();
            if (minP > 0f) {
                if (minPNearBoundary(s, minP)) { skipped++; continue; }
                new Warpers.MinP(minP, 1).process(h, s);
            }
            if (typical < 1f) {
                if (typicalNearBoundary(s, typical)) { skipped++; continue; }
                new Warpers.Typical(typical, 1).process(h, s);
            }
            assertArrayEquals(finite(s), mirror(warped, minP, typical),
                    "trial " + trial + ": vocab " + vocab + ", min_p " + minP + ", typical_p " + typical);
            checked++;
        }
        assertTrue(checked >= 380, checked + " trials checked, " + skipped + " near a boundary");
    }
}
