package dev.cortado.tokenizer.models;

import java.util.Arrays;

/** Open-addressing map (left id, right id) -> (rank, merged id), and the merge loop over one word. */
final class MergeMap {
    private long[] keys;
    private int[] ranks, newIds;
    private int mask, size;

    MergeMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 + 1)) * 2;
        keys = new long[cap];
        Arrays.fill(keys, -1L);
        ranks = new int[cap];
        newIds = new int[cap];
        mask = cap - 1;
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    private int slot(long k) {
        long h = k * 0x9E3779B97F4A7C15L;
        int i = (int) (h >>> 35) & mask;
        while (keys[i] != -1L && keys[i] != k) i = (i + 1) & mask;
        return i;
    }

    void putIfAbsent(int a, int b, int rank, int newId) {
        long k = key(a, b);
        int i = slot(k);
        if (keys[i] == k) return;
        keys[i] = k;
        ranks[i] = rank;
        newIds[i] = newId;
        size++;
    }

    /** Slot index of the pair, or -1. */
    private int find(int a, int b) {
        long k = key(a, b);
        int i = slot(k);
        return keys[i] == k ? i : -1;
    }

    /** Merges the symbols {@code c[0..n)} and returns the resulting ids. */
    int[] mergeAll(int[] c, int n) {
        if (n < 2) return Arrays.copyOf(c, n);
        int[] prev = new int[n], next = new int[n];
        boolean[] removed = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        Heap heap = new Heap(n);
        for (int i = 0; i + 1 < n; i++) {
            int s = find(c[i], c[i + 1]);
            if (s >= 0) heap.push(ranks[s], i, newIds[s]);
        }
        int live = n;
        while (heap.size > 0) {
            int pos = heap.topPos(), newId = heap.topNewId();
            heap.pop();
            if (removed[pos]) continue;
            int nx = next[pos];
            if (nx < 0) continue;
            int s = find(c[pos], c[nx]);
            if (s < 0 || newIds[s] != newId) continue;
            c[pos] = newId;
            removed[nx] = true;
            live--;
            next[pos] = next[nx];
            if (next[nx] >= 0) prev[next[nx]] = pos;
            if (prev[pos] >= 0) {
                int ps = find(c[prev[pos]], c[pos]);
                if (ps >= 0) heap.push(ranks[ps], prev[pos], newIds[ps]);
            }
            if (next[pos] >= 0) {
                int ns = find(c[pos], c[next[pos]]);
                if (ns >= 0) heap.push(ranks[ns], pos, newIds[ns]);
            }
        }
        int[] out = new int[live];
        for (int i = 0, k = 0; i >= 0 && k < live; i = next[i]) out[k++] = c[i];
        return out;
    }

    /** Binary min-heap on (rank, pos) carrying the merged id. */
    private static final class Heap {
        int[] rank, pos, nid;
        int size;

        Heap(int cap) {
            rank = new int[cap];
            pos = new int[cap];
            nid = new int[cap];
        }

        boolean less(int i, int j) {
            return rank[i] < rank[j] || (rank[i] == rank[j] && pos[i] < pos[j]);
        }

        void swap(int i, int j) {
            int t = rank[i]; rank[i] = rank[j]; rank[j] = t;
            t = pos[i]; pos[i] = pos[j]; pos[j] = t;
            t = nid[i]; nid[i] = nid[j]; nid[j] = t;
        }

        void push(int r, int p, int id) {
            if (size == rank.length) {
                rank = Arrays.copyOf(rank, size * 2);
                pos = Arrays.copyOf(pos, size * 2);
                nid = Arrays.copyOf(nid, size * 2);
            }
            rank[size] = r;
            pos[size] = p;
            nid[size] = id;
            int i = size++;
            while (i > 0 && less(i, (i - 1) / 2)) {
                swap(i, (i - 1) / 2);
                i = (i - 1) / 2;
            }
        }

        int topPos() {
            return pos[0];
        }

        int topNewId() {
            return nid[0];
        }

        void pop() {
            size--;
            if (size == 0) return;
            swap(0, size);
            int i = 0;
            while (true) {
                int l = 2 * i + 1, r = l + 1, m = i;
                if (l < size && less(l, m)) m = l;
                if (r < size && less(r, m)) m = r;
                if (m == i) break;
                swap(i, m);
                i = m;
            }
        }
    }
}
