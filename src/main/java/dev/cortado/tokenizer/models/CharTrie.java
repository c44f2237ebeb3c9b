package dev.cortado.tokenizer.models;

import java.util.Arrays;

/** A compact char trie (sorted child arrays) for common-prefix search. */
final class CharTrie {
    private char[][] labels = new char[1024][];
    private int[][] children = new int[1024][];
    private int[] value = new int[1024];
    private int nodes = 1;

    CharTrie() {
        Arrays.fill(value, -1);
        labels[0] = new char[0];
        children[0] = new int[0];
    }

    void put(String key, int v) {
        int node = 0;
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            int k = Arrays.binarySearch(labels[node], c);
            if (k >= 0) {
                node = children[node][k];
                continue;
            }
            int ins = -k - 1;
            int child = newNode();
            char[] l = labels[node];
            int[] ch = children[node];
            char[] nl = new char[l.length + 1];
            int[] nc = new int[ch.length + 1];
            System.arraycopy(l, 0, nl, 0, ins);
            System.arraycopy(ch, 0, nc, 0, ins);
            nl[ins] = c;
            nc[ins] = child;
            System.arraycopy(l, ins, nl, ins + 1, l.length - ins);
            System.arraycopy(ch, ins, nc, ins + 1, ch.length - ins);
            labels[node] = nl;
            children[node] = nc;
            node = child;
        }
        value[node] = v;
    }

    private int newNode() {
        if (nodes == value.length) {
            int cap = nodes * 2;
            labels = Arrays.copyOf(labels, cap);
            children = Arrays.copyOf(children, cap);
            value = Arrays.copyOf(value, cap);
            Arrays.fill(value, nodes, cap, -1);
        }
        labels[nodes] = new char[0];
        children[nodes] = new int[0];
        return nodes++;
    }

    /**
     * Values of the keys that are prefixes of {@code s[start..]}, shortest first, ending on a code point boundary.
     * Returns the count (which may exceed the arrays' length: then only the first ones are written).
     */
    int prefixes(String s, int start, int[] vals, int[] lens) {
        int node = 0, count = 0;
        for (int i = start; i < s.length(); i++) {
            int k = Arrays.binarySearch(labels[node], s.charAt(i));
            if (k < 0) break;
            node = children[node][k];
            if (value[node] >= 0 && !(Character.isHighSurrogate(s.charAt(i)))) {
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
