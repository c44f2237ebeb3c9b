package dev.cortado.tokenizer.models;

import java.util.Arrays;

/**
 * A char trie for common-prefix search. Edges live in one open-addressing hash table keyed by (parent node, char),
 * so a step is one multiply-shift and usually one probe (no per-node child arrays to binary-search).
 */
final class CharTrie {
    private long[] keys = new long[1 << 12]; // (node << 16 | char) + 1; 0 = empty slot
    private int[] child = new int[1 << 12];
    private int edges;
    private int[] value = new int[1024];
    private int nodes = 1;

    CharTrie() {
        Arrays.fill(value, -1);
    }

    private static long key(int node, char c) {
        return (((long) node << 16) | c) + 1;
    }

    private static int slot(long k, int mask) {
        return (int) ((k * 0x9E3779B97F4A7C15L) >>> 40) & mask;
    }

    private int step(int node, char c) {
        long k = key(node, c);
        int mask = keys.length - 1;
        for (int i = slot(k, mask); ; i = (i + 1) & mask) {
            long s = keys[i];
            if (s == k) return child[i];
            if (s == 0) return -1;
        }
    }

    private void insertEdge(long k, int ch) {
        int mask = keys.length - 1;
        int i = slot(k, mask);
        while (keys[i] != 0) i = (i + 1) & mask;
        keys[i] = k;
        child[i] = ch;
    }

    void put(String key, int v) {
        int node = 0;
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            int next = step(node, c);
            if (next < 0) {
                next = newNode();
                if (2 * (edges + 1) > keys.length) grow();
                insertEdge(key(node, c), next);
                edges++;
            }
            node = next;
        }
        value[node] = v;
    }

    private void grow() {
        long[] ok = keys;
        int[] oc = child;
        keys = new long[ok.length * 2];
        child = new int[ok.length * 2];
        for (int i = 0; i < ok.length; i++) if (ok[i] != 0) insertEdge(ok[i], oc[i]);
    }

    private int newNode() {
        if (nodes == value.length) {
            int cap = nodes * 2;
            value = Arrays.copyOf(value, cap);
            Arrays.fill(value, nodes, cap, -1);
        }
        return nodes++;
    }

    /**
     * Values of the keys that are prefixes of {@code s[start..]}, shortest first, ending on a code point boundary.
     * Returns the count (which may exceed the arrays' length: then only the first ones are written).
     */
    int prefixes(String s, int start, int[] vals, int[] lens) {
        int node = 0, count = 0;
        for (int i = start; i < s.length(); i++) {
            char c = s.charAt(i);
            node = step(node, c);
            if (node < 0) break;
            if (value[node] >= 0 && !Character.isHighSurrogate(c)) {
                if (count < vals.length) {
                    vals[count] = value[node];
                    lens[count] = i + 1 - start;
                }
                count++;
            }
        }
        return count;
    }
}
