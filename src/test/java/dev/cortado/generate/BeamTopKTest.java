package dev.cortado.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The one-pass top-k of beam search orders exactly as a stable sort by (value descending, index ascending). */
class BeamTopKTest {
    /** The order beam search is specified with: all indices sorted by the comparator, the first k taken. */
    private static int[] bySort(float[] v, int k) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) idx[i] = i;
        Arrays.sort(idx, (a, b) -> v[a] != v[b] ? Float.compare(v[b], v[a]) : Integer.compare(a, b));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) out[i] = idx[i];
        return out;
    }

    @Test
    void matchesSortWithTiesInfinitiesAndSignedZeros() {
        Random rnd = new Random(7);
        float[] specials = {0f, -0f, Float.NEGATIVE_INFINITY, -1e9f, 3f, -3f};
        for (int trial = 0; trial < 2000; trial++) {
            int n = 1 + rnd.nextInt(trial < 1000 ? 40 : 3000);
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                int kind = rnd.nextInt(4);
                v[i] = kind == 0 ? specials[rnd.nextInt(specials.length)] : kind == 1 ? rnd.nextInt(5) : (float) rnd.nextGaussian();
            }
            int k = 1 + rnd.nextInt(Math.min(n, 16));
            assertArrayEquals(bySort(v, k), BeamSearch.topK(v, k), "n=" + n + " k=" + k + " trial " + trial);
        }
    }

    @Test
    void allEqualKeepsTheFirstIndices() {
        float[] v = new float[100];
        Arrays.fill(v, -2f);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, BeamSearch.topK(v, 8));
    }
}
