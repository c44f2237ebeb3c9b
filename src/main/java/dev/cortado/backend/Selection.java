package dev.cortado.backend;

import java.util.Arrays;

/**
 * Primitive selection over float scores (no boxing): each (value, index) pair is packed into one long whose natural
 * order is the wanted order, so a heap of longs or {@link Arrays#sort(long[])} replaces a comparator sort of an
 * {@code Integer[]} with the same result, ties included.
 */
public final class Selection {
    private Selection() {}

    /** An int whose signed order is Float.compare's order of the values (NaN canonical and largest). */
    static int sortable(float v) {
        int bits = Float.floatToIntBits(v);
        return bits >= 0 ? bits : bits ^ 0x7fffffff;
    }

    /**
     * Indices of the k largest of v[from, from + n) relative to {@code from}, largest first; equal values (== , so
     * -0.0 equals 0.0) lower index first: the order of a sort by {@code v[a] != v[b] ? Float.compare(v[b], v[a]) :
     * Integer.compare(a, b)}. A size-k min-heap: O(n log k).
     */
    public static int[] topK(float[] v, int from, int n, int k) {
        if (k < 0 || k > n) throw new IllegalArgumentException("top " + k + " of " + n + " values");
        long[] heap = new long[k];
        int size = 0;
        for (int i = 0; i < n; i++) {
            float x = v[from + i];
            if (x == 0f) x = 0f; // -0.0 ties with 0.0
            long key = ((long) sortable(x) << 32) | (0xFFFFFFFFL - i);
            if (size < k) {
                heap[size] = key;
                up(heap, size++);
            } else if (k > 0 && key > heap[0]) {
                heap[0] = key;
                down(heap, k);
            }
        }
        Arrays.sort(heap);
        int[] out = new int[k];
        for (int j = 0; j < k; j++) out[j] = (int) (0xFFFFFFFFL - (heap[k - 1 - j] & 0xFFFFFFFFL));
        return out;
    }

    public static int[] topK(float[] v, int k) {
        return topK(v, 0, v.length, k);
    }

    /** All indices by ascending value (Double.compare order: -0.0 before 0.0, NaN last), ties by index. */
    public static int[] ascending(float[] v) {
        long[] keys = new long[v.length];
        for (int i = 0; i < v.length; i++) keys[i] = ((long) sortable(v[i]) << 32) | i;
        Arrays.sort(keys);
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (int) keys[i];
        return out;
    }

    private static void up(long[] h, int i) {
        long x = h[i];
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (h[p] <= x) break;
            h[i] = h[p];
            i = p;
        }
        h[i] = x;
    }

    private static void down(long[] h, int size) {
        long x = h[0];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) break;
            if (c + 1 < size && h[c + 1] < h[c]) c++;
            if (h[c] >= x) break;
            h[i] = h[c];
            i = c;
        }
        h[i] = x;
    }
}
