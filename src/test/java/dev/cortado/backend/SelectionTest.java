package dev.cortado.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The primitive selections give exactly the order of the boxed comparator sorts they replace (the generation code's
 * former {@code BeamSearch.topK} and {@code Warpers.ascending}), ties, -0.0, infinities and NaN included; and the
 * host token choice's beam candidates are the top k of the flat beams × vocab sums.
 */
class SelectionTest {
    static float[] tricky(Random r, int n) {
        float[] v = new float[n];
        float[] pool = {0f, -0f, 1f, -1f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, 2.5f};
        for (int i = 0; i < n; i++) v[i] = r.nextInt(3) == 0 ? pool[r.nextInt(pool.length)] : (float) r.nextGaussian();
        return v;
    }

    static int[] boxedTopK(float[] v, int k) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) idx[i] = i;
        Arrays.sort(idx, (a, b) -> v[a] != v[b] ? Float.compare(v[b], v[a]) : Integer.compare(a, b));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) out[i] = idx[i];
        return out;
    }

    static int[] boxedAscending(float[] v) {
        return IntStream.range(0, v.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> v[i]).thenComparingInt(i -> i))
                .mapToInt(Integer::intValue).toArray();
    }

    @Test
    void topKMatchesTheBoxedSortWithoutNaN() {
        Random r = new Random(3);
        for (int trial = 0; trial < 300; trial++) {
            float[] v = tricky(r, 1 + r.nextInt(200));
            for (int i = 0; i < v.length; i++) if (Float.isNaN(v[i])) v[i] = 0.5f; // the comparator is no total order with NaN
            int k = r.nextInt(v.length + 1);
            assertArrayEquals(boxedTopK(v, k), Selection.topK(v, k), "trial " + trial);
        }
    }

    @Test
    void ascendingMatchesTheBoxedSort() {
        Random r = new Random(4);
        for (int trial = 0; trial < 300; trial++) {
            float[] v = tricky(r, 1 + r.nextInt(300));
            assertArrayEquals(boxedAscending(v), Selection.ascending(v), "trial " + trial);
        }
    }

    @Test
    void hostBeamCandidatesAreTheTopKOfTheFlatSums() {
        Random r = new Random(5);
        int beams = 3, groups = 2, vocab = 50, k = 6, rows = beams * groups;
        float[] logits = new float[rows * vocab];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian() * 3;
        float[] run = new float[rows];
        for (int i = 0; i < rows; i++) run[i] = (float) -r.nextDouble() * 4;
        TokenChoice.RowProcessor ban7 = (row, s) -> s[7] = Float.NEGATIVE_INFINITY;
        Choices c = HostChoice.choose(logits, rows, vocab,
                TokenChoice.beam(ban7, null, new boolean[] {true, true, true, false, false, false}, beams, k, run, 2));
        float[] cand = new float[beams * vocab];
        for (int b = 0; b < beams; b++) {
            float[] lp = HostChoice.logSoftmax(logits, b * vocab, vocab);
            lp[7] = Float.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) cand[b * vocab + v] = lp[v] + run[b];
        }
        int[] want = boxedTopK(cand, k);
        for (int j = 0; j < k; j++) {
            assertEquals(want[j] % vocab, c.ids()[j]);
            assertEquals(want[j] / vocab, c.sources()[j]);
            assertEquals(cand[want[j]], c.scores()[j]);
            assertEquals(HostChoice.logSoftmax(logits, (want[j] / vocab) * vocab, vocab)[want[j] % vocab], c.logprobs()[j]);
            assertEquals(-1, c.ids()[k + j], "an inactive group gets no candidates");
        }
        assertEquals(2, c.topIds()[0].length);
    }

    @Test
    void sampleDrawsOnlyForARowWithAFiniteScore() {
        int[] draws = new int[1];
        float[] dead = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        assertEquals(0, HostChoice.sample(dead, () -> { draws[0]++; return 0.5; }));
        assertEquals(0, draws[0]);
        assertEquals(1, HostChoice.sample(new float[] {0f, 0f}, () -> { draws[0]++; return 0.75; }));
        assertEquals(1, draws[0]);
    }
}
