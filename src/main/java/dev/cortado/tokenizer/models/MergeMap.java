package dev.cortado.tokenizer.models;

import java.util.Arrays;

/**
 * Open-addressing map (left id, right id) -> (rank, merged id), and the merge loop over one word (HF Rust
 * {@code Word::merge_all}: lowest rank first, then leftmost; a queued merge is dropped when its pair no longer
 * yields the same merged id).
 */
final class MergeMap {
    private static final long EMPTY = -1L;
    private final long[] table; // [key, rank << 32 | newId] pairs
    private final int mask;

    MergeMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 + 1)) * 2;
        table = new long[cap * 2];
        for (int i = 0; i < table.length; i += 2) table[i] = EMPTY;
        mask = cap - 1;
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    private int slot(long k) {
        int i = (int) ((k * 0x9E3779B97F4A7C15L) >>> 35) & mask;
        while (table[2 * i] != EMPTY && table[2 * i] != k) i = (i + 1) & mask;
        return i;
    }

    void putIfAbsent(int a, int b, int rank, int newId) {
        long k = key(a, b);
        int i = slot(k);
        if (table[2 * i] == k) return;
        table[2 * i] = k;
        table[2 * i + 1] = ((long) rank << 32) | (newId & 0xFFFFFFFFL);
    }

    /** {@code rank << 32 | newId} of the pair, or -1. */
    long get(int a, int b) {
        long k = key(a, b);
        int i = slot(k);
        return table[2 * i] == k ? table[2 * i + 1] : -1L;
    }

    /** Merges the symbols {@code c[0..n)} and returns the resulting ids. */
    int[] mergeAll(int[] c, int n) {
        if (n < 2) return Arrays.copyOf(c, n);
        int[] prev = new int[n], next = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        boolean[] removed = new boolean[n];
        Heap heap = new Heap(n);
        for (int i = 0; i + 1 < n; i++) {
            long m = get(c[i], c[i + 1]);
            if (m >= 0) heap.push((m >>> 32) << 32 | i, (int) m);
        }
        int live = n;
        while (heap.size > 0) {
            long top = heap.keys[0];
            int newId = heap.ids[0];
            heap.pop();
            int pos = (int) top;
            if (removed[pos]) continue;
            int nx = next[pos];
            if (nx < 0) continue;
            long m = get(c[pos], c[nx]);
            if (m < 0 || (int) m != newId) continue;
            c[pos] = newId;
            removed[nx] = true;
            live--;
            next[pos] = next[nx];
            if (next[nx] >= 0) prev[next[nx]] = pos;
            int p = prev[pos];
            if (p >= 0) {
                long pm = get(c[p], c[pos]);
                if (pm >= 0) heap.push((pm >>> 32) << 32 | p, (int) pm);
            }
            int q = next[pos];
            if (q >= 0) {
                long qm = get(c[pos], c[q]);
                if (qm >= 0) heap.push((qm >>> 32) << 32 | pos, (int) qm);
            }
        }
        int[] out = new int[live];
        for (int i = 0, k = 0; i >= 0 && k < live; i = next[i]) out[k++] = c[i];
        return out;
    }

    /** 4-ary min-heap on {@code rank << 32 | pos}, carrying the merged id. */
    private static final class Heap {
        long[] keys;
        int[] ids;
        int size;

        Heap(int cap) {
            keys = new long[Math.max(4, cap)];
            ids = new int[Math.max(4, cap)];
        }

        void push(long key, int id) {
            if (size == keys.length) {
                keys = Arrays.copyOf(keys, size * 2);
                ids = Arrays.copyOf(ids, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 2;
                if (keys[parent] <= key) break;
                keys[i] = keys[parent];
                ids[i] = ids[parent];
                i = parent;
            }
            keys[i] = key;
            ids[i] = id;
        }

        void pop() {
            int n = --size;
            if (n == 0) return;
            long key = keys[n];
            int id = ids[n];
            int i = 0;
            while (true) {
                int first = 4 * i + 1;
                if (first >= n) break;
                int best = first;
                long bk = keys[first];
                int last = Math.min(first + 4, n);
                for (int c = first + 1; c < last; c++) {
                    if (keys[c] < bk) {
                        bk = keys[c];
                        best = c;
                    }
                }
                if (bk >= key) break;
                keys[i] = bk;
                ids[i] = ids[best];
                i = best;
            }
            keys[i] = key;
            ids[i] = id;
        }
    }
}
