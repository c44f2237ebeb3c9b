package dev.cortado.generate.constraint;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Thompson NFA over bytes (UTF-8 text) with one start and one accept state; transitions are byte ranges or
 * epsilon moves. Immutable: the combinators copy their operands into a new automaton. The empty language
 * ({@link #nothing()}) propagates: a concatenation with it is empty, an alternation drops it.
 */
final class Nfa {
    final int start;
    final int accept;
    /** Per state: byte-range transitions as triples lo, hi, target. */
    final int[][] ranges;
    /** Per state: epsilon targets. */
    final int[][] eps;
    private Boolean empty;

    private Nfa(int start, int accept, int[][] ranges, int[][] eps) {
        this.start = start;
        this.accept = accept;
        this.ranges = ranges;
        this.eps = eps;
    }

    int size() {
        return ranges.length;
    }

    /** Whether no string is accepted. */
    boolean isEmptyLanguage() {
        if (empty == null) {
            boolean[] seen = new boolean[size()];
            ArrayDeque<Integer> q = new ArrayDeque<>();
            q.add(start);
            seen[start] = true;
            boolean found = false;
            while (!q.isEmpty() && !found) {
                int s = q.poll();
                if (s == accept) found = true;
                for (int t : eps[s]) if (!seen[t]) { seen[t] = true; q.add(t); }
                for (int i = 0; i < ranges[s].length; i += 3) {
                    int t = ranges[s][i + 2];
                    if (!seen[t]) { seen[t] = true; q.add(t); }
                }
            }
            empty = !found;
        }
        return empty;
    }

    // ---- primitives ----

    /** Accepts only the empty string. */
    static Nfa empty() {
        Builder b = new Builder();
        int s = b.add();
        return b.build(s, s);
    }

    /** Accepts nothing. */
    static Nfa nothing() {
        Builder b = new Builder();
        return b.build(b.add(), b.add());
    }

    static Nfa literal(String s) {
        return bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    static Nfa bytes(byte[] bytes) {
        Builder b = new Builder();
        int s = b.add(), cur = s;
        for (byte x : bytes) {
            int n = b.add();
            b.range(cur, x & 0xFF, x & 0xFF, n);
            cur = n;
        }
        return b.build(s, cur);
    }

    /** One code point of {@code c}, UTF-8 encoded. */
    static Nfa charClass(CharClass c) {
        if (c.isEmpty()) return nothing();
        Builder b = new Builder();
        int s = b.add(), a = b.add();
        for (int i = 0; i < c.rangeCount(); i++) {
            Utf8Ranges.split(c.lo(i), c.hi(i), seq -> {
                int cur = s;
                for (int k = 0; k < seq.length; k += 2) {
                    int n = k + 2 == seq.length ? a : b.add();
                    b.range(cur, seq[k], seq[k + 1], n);
                    cur = n;
                }
            });
        }
        return b.build(s, a);
    }

    // ---- combinators ----

    static Nfa concat(Nfa... parts) {
        return concat(List.of(parts));
    }

    static Nfa concat(List<Nfa> parts) {
        for (Nfa p : parts) if (p.isEmptyLanguage()) return nothing();
        if (parts.isEmpty()) return empty();
        if (parts.size() == 1) return parts.getFirst();
        Builder b = new Builder();
        int first = -1, prevAccept = -1;
        for (Nfa p : parts) {
            int off = b.embed(p);
            if (first < 0) first = p.start + off;
            else b.eps(prevAccept, p.start + off);
            prevAccept = p.accept + off;
        }
        return b.build(first, prevAccept);
    }

    static Nfa alt(Nfa... parts) {
        return alt(List.of(parts));
    }

    static Nfa alt(List<Nfa> parts) {
        List<Nfa> live = parts.stream().filter(p -> !p.isEmptyLanguage()).toList();
        if (live.isEmpty()) return nothing();
        if (live.size() == 1) return live.getFirst();
        Builder b = new Builder();
        int s = b.add(), a = b.add();
        for (Nfa p : live) {
            int off = b.embed(p);
            b.eps(s, p.start + off);
            b.eps(p.accept + off, a);
        }
        return b.build(s, a);
    }

    static Nfa optional(Nfa a) {
        return alt(a, empty());
    }

    /** {@code min} to {@code max} copies of {@code a}; {@code max < 0} means unbounded. */
    static Nfa repeat(Nfa a, int min, int max) {
        if (max >= 0 && max < min) return nothing();
        if (a.isEmptyLanguage()) return min == 0 ? empty() : nothing();
        Builder b = new Builder();
        int s = b.add(), cur = s;
        for (int i = 0; i < min; i++) {
            int off = b.embed(a);
            b.eps(cur, a.start + off);
            cur = a.accept + off;
        }
        if (max < 0) {
            int loop = b.add();
            b.eps(cur, loop);
            int off = b.embed(a);
            b.eps(loop, a.start + off);
            b.eps(a.accept + off, loop);
            return b.build(s, loop);
        }
        int end = b.add();
        for (int i = min; i < max; i++) {
            b.eps(cur, end);
            int off = b.embed(a);
            b.eps(cur, a.start + off);
            cur = a.accept + off;
        }
        b.eps(cur, end);
        return b.build(s, end);
    }

    /** {@code item (sep item)*} with between {@code min} and {@code max} items ({@code max < 0}: unbounded). */
    static Nfa separated(Nfa item, Nfa sep, int min, int max) {
        if (max == 0) return empty();
        if (min == 0) return optional(separated(item, sep, 1, max));
        Nfa more = repeat(concat(sep, item), min - 1, max < 0 ? -1 : max - 1);
        return concat(item, more);
    }

    // ---- intersection ----

    /** The product automaton accepting the strings both accept; throws past {@code limit} product states. */
    static Nfa intersect(Nfa x, Nfa y, int limit) {
        if (x.isEmptyLanguage() || y.isEmptyLanguage()) return nothing();
        Closures cx = new Closures(x), cy = new Closures(y);
        Builder b = new Builder();
        Map<Long, Integer> ids = new HashMap<>();
        ArrayDeque<long[]> queue = new ArrayDeque<>();
        int s = b.add(), accept = b.add();
        ids.put(key(x.start, y.start), s);
        queue.add(new long[] {x.start, y.start, s});
        while (!queue.isEmpty()) {
            long[] e = queue.poll();
            int p = (int) e[0], q = (int) e[1], id = (int) e[2];
            if (cx.accepting[p] && cy.accepting[q]) b.eps(id, accept);
            int[] mp = cx.moves[p], mq = cy.moves[q];
            for (int i = 0; i < mp.length; i += 3) {
                for (int j = 0; j < mq.length; j += 3) {
                    int lo = Math.max(mp[i], mq[j]), hi = Math.min(mp[i + 1], mq[j + 1]);
                    if (lo > hi) continue;
                    int tp = mp[i + 2], tq = mq[j + 2];
                    Integer t = ids.get(key(tp, tq));
                    if (t == null) {
                        if (ids.size() >= limit) throw new TooComplex();
                        t = b.add();
                        ids.put(key(tp, tq), t);
                        queue.add(new long[] {tp, tq, t});
                    }
                    b.range(id, lo, hi, t);
                }
            }
        }
        return b.build(s, accept);
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    /** Thrown when an automaton operation exceeds its state budget. */
    static final class TooComplex extends RuntimeException {
        TooComplex() {
            super(null, null, false, false);
        }
    }

    /** Epsilon-free view: the byte moves and acceptance of each state's epsilon closure. */
    private static final class Closures {
        final int[][] moves;
        final boolean[] accepting;

        Closures(Nfa n) {
            moves = new int[n.size()][];
            accepting = new boolean[n.size()];
            int[] mark = new int[n.size()];
            int[] stack = new int[n.size()];
            for (int s = 0; s < n.size(); s++) {
                int stamp = s + 1, sp = 0, len = 0;
                int[] m = new int[8];
                stack[sp++] = s;
                mark[s] = stamp;
                while (sp > 0) {
                    int c = stack[--sp];
                    if (c == n.accept) accepting[s] = true;
                    int[] r = n.ranges[c];
                    if (len + r.length > m.length) m = Arrays.copyOf(m, Math.max(m.length * 2, len + r.length));
                    System.arraycopy(r, 0, m, len, r.length);
                    len += r.length;
                    for (int t : n.eps[c]) if (mark[t] != stamp) { mark[t] = stamp; stack[sp++] = t; }
                }
                moves[s] = Arrays.copyOf(m, len);
            }
        }
    }

    /** Mutable construction area. */
    static final class Builder {
        private int n;
        private int[][] rg = new int[16][];
        private int[] rgLen = new int[16];
        private int[][] ep = new int[16][];
        private int[] epLen = new int[16];

        int add() {
            if (n == rg.length) {
                int c = n * 2;
                rg = Arrays.copyOf(rg, c);
                rgLen = Arrays.copyOf(rgLen, c);
                ep = Arrays.copyOf(ep, c);
                epLen = Arrays.copyOf(epLen, c);
            }
            rg[n] = new int[0];
            ep[n] = new int[0];
            return n++;
        }

        void range(int from, int lo, int hi, int to) {
            if (rgLen[from] + 3 > rg[from].length) rg[from] = Arrays.copyOf(rg[from], Math.max(6, rg[from].length * 2));
            int[] r = rg[from];
            int l = rgLen[from];
            r[l] = lo;
            r[l + 1] = hi;
            r[l + 2] = to;
            rgLen[from] = l + 3;
        }

        void eps(int from, int to) {
            if (epLen[from] == ep[from].length) ep[from] = Arrays.copyOf(ep[from], Math.max(2, ep[from].length * 2));
            ep[from][epLen[from]++] = to;
        }

        /** Copies {@code a}'s states in; returns the offset to add to its state numbers. */
        int embed(Nfa a) {
            int off = n;
            for (int i = 0; i < a.size(); i++) add();
            for (int i = 0; i < a.size(); i++) {
                int[] r = a.ranges[i];
                for (int k = 0; k < r.length; k += 3) range(i + off, r[k], r[k + 1], r[k + 2] + off);
                for (int t : a.eps[i]) eps(i + off, t + off);
            }
            return off;
        }

        Nfa build(int start, int accept) {
            int[][] r = new int[n][], e = new int[n][];
            for (int i = 0; i < n; i++) {
                r[i] = Arrays.copyOf(rg[i], rgLen[i]);
                e[i] = Arrays.copyOf(ep[i], epLen[i]);
            }
            return new Nfa(start, accept, r, e);
        }
    }
}
