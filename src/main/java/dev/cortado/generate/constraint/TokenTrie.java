package dev.cortado.generate.constraint;

import java.util.Arrays;

/**
 * The vocabulary's token byte strings as a trie laid out in preorder, each node with the end of its subtree, so a walk
 * can skip a whole subtree when the automaton dies on a node's byte (llguidance's TokTrie layout).
 */
final class TokenTrie {
    private final byte[] label;
    private final int[] depth;
    private final int[] end;
    private final int[] tokStart;
    private final int[] tokIds;
    private final int nodes;
    private final int maxDepth;

    /** {@code bytes[id]}: the token's bytes, or null/empty when the token never appears in constrained text. */
    TokenTrie(byte[][] bytes) {
        Integer[] order = java.util.stream.IntStream.range(0, bytes.length)
                .filter(i -> bytes[i] != null && bytes[i].length > 0).boxed().toArray(Integer[]::new);
        Arrays.sort(order, (a, b) -> Arrays.compareUnsigned(bytes[a], bytes[b]));
        int cap = 0;
        for (int id : order) cap += bytes[id].length;
        byte[] lab = new byte[cap];
        int[] dep = new int[cap], en = new int[cap], ts = new int[cap + 1];
        int[] ids = new int[order.length];
        int[] path = new int[1];
        int pathLen = 0, n = 0, t = 0, deepest = 0;
        byte[] prev = new byte[0];
        for (int id : order) {
            byte[] b = bytes[id];
            int common = Math.min(Arrays.mismatch(prev, b) < 0 ? prev.length : Arrays.mismatch(prev, b), pathLen);
            while (pathLen > common) en[path[--pathLen]] = n;
            if (path.length < b.length) path = Arrays.copyOf(path, b.length);
            for (int k = pathLen; k < b.length; k++) {
                lab[n] = b[k];
                dep[n] = k + 1;
                ts[n] = t;
                path[pathLen++] = n++;
            }
            ts[n] = t; // nodes created after this one start their tokens after t
            ids[t++] = id;
            ts[n] = t;
            deepest = Math.max(deepest, b.length);
            prev = b;
        }
        while (pathLen > 0) en[path[--pathLen]] = n;
        this.nodes = n;
        this.label = Arrays.copyOf(lab, n);
        this.depth = Arrays.copyOf(dep, n);
        this.end = Arrays.copyOf(en, n);
        this.tokStart = Arrays.copyOf(ts, n + 1);
        this.tokIds = ids;
        this.maxDepth = deepest;
    }

    int nodeCount() {
        return nodes;
    }

    /** Sets in {@code mask} the bit of every token whose bytes the automaton can read from {@code state}. */
    void allowed(Dfa dfa, int state, long[] mask) {
        int[] st = new int[maxDepth + 1];
        st[0] = state;
        int i = 0;
        while (i < nodes) {
            int s = dfa.step(st[depth[i] - 1], label[i] & 0xFF);
            if (s < 0) {
                i = end[i];
                continue;
            }
            st[depth[i]] = s;
            for (int k = tokStart[i]; k < tokStart[i + 1]; k++) {
                int id = tokIds[k];
                mask[id >>> 6] |= 1L << id;
            }
            i++;
        }
    }
}
