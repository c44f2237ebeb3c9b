package dev.cortado.generate.constraint;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The subset construction of an {@link Nfa} over bytes, built lazily as states are visited. NFA states that cannot
 * reach the accept state are pruned first, so every DFA state can still be completed to an accepted string, and a
 * step that leads nowhere returns {@link #DEAD}. Not thread-safe: callers lock on the instance.
 */
final class Dfa {
    static final int DEAD = -1;
    private static final int UNKNOWN = -2;
    /** The most DFA states one automaton may build (about 1 KiB each). */
    static final int MAX_STATES = 100_000;

    private final Nfa nfa;
    private final boolean[] live;
    private final List<int[]> sets = new ArrayList<>();
    private final List<int[]> trans = new ArrayList<>();
    private final List<Boolean> accepting = new ArrayList<>();
    private final Map<Key, Integer> ids = new HashMap<>();
    private final int[] mark;
    private int stamp;
    private final int start;

    Dfa(Nfa nfa) {
        this.nfa = nfa;
        this.live = coreachable(nfa);
        this.mark = new int[nfa.size()];
        start = live[nfa.start] ? intern(closure(new int[] {nfa.start}, 1)) : DEAD;
    }

    static dev.cortado.CortadoException tooLarge() {
        return new dev.cortado.CortadoException("constraint automaton grew past " + MAX_STATES
                + " states while generating; lower the schema's length/count bounds or simplify the regex");
    }

    /** The start state, or {@link #DEAD} when the language is empty. */
    int start() {
        return start;
    }

    boolean accepting(int state) {
        return state >= 0 && accepting.get(state);
    }

    int stateCount() {
        return sets.size();
    }

    /** The state after byte {@code b} (0..255), or {@link #DEAD}. */
    int step(int state, int b) {
        int[] t = trans.get(state);
        int next = t[b];
        if (next != UNKNOWN) return next;
        int[] set = sets.get(state);
        int[] targets = new int[8];
        int n = 0;
        for (int s : set) {
            int[] r = nfa.ranges[s];
            for (int i = 0; i < r.length; i += 3) {
                if (b < r[i] || b > r[i + 1] || !live[r[i + 2]]) continue;
                if (n == targets.length) targets = Arrays.copyOf(targets, n * 2);
                targets[n++] = r[i + 2];
            }
        }
        next = n == 0 ? DEAD : intern(closure(targets, n));
        t[b] = next;
        return next;
    }

    /** The state after all of {@code bytes}, or {@link #DEAD}. */
    int walk(int state, byte[] bytes) {
        for (int i = 0; i < bytes.length && state >= 0; i++) state = step(state, bytes[i] & 0xFF);
        return state;
    }

    /** The sorted NFA states with byte moves (or the accept state) reachable from {@code seeds} by epsilons. */
    private int[] closure(int[] seeds, int n) {
        if (++stamp == 0) {
            Arrays.fill(mark, 0);
            stamp = 1;
        }
        int[] stack = new int[Math.max(16, n)];
        int sp = 0;
        int[] out = new int[16];
        int len = 0;
        for (int i = 0; i < n; i++) {
            int s = seeds[i];
            if (mark[s] == stamp) continue;
            mark[s] = stamp;
            stack[sp++] = s;
        }
        while (sp > 0) {
            int s = stack[--sp];
            if (nfa.ranges[s].length > 0 || s == nfa.accept) {
                if (len == out.length) out = Arrays.copyOf(out, len * 2);
                out[len++] = s;
            }
            for (int t : nfa.eps[s]) {
                if (mark[t] == stamp || !live[t]) continue;
                mark[t] = stamp;
                if (sp == stack.length) stack = Arrays.copyOf(stack, sp * 2);
                stack[sp++] = t;
            }
        }
        int[] set = Arrays.copyOf(out, len);
        Arrays.sort(set);
        return set;
    }

    private int intern(int[] set) {
        if (set.length == 0) return DEAD;
        Key k = new Key(set);
        Integer id = ids.get(k);
        if (id != null) return id;
        if (sets.size() >= MAX_STATES) throw new Nfa.TooComplex();
        id = sets.size();
        sets.add(set);
        int[] t = new int[256];
        Arrays.fill(t, UNKNOWN);
        trans.add(t);
        accepting.add(Arrays.binarySearch(set, nfa.accept) >= 0);
        ids.put(k, id);
        return id;
    }

    /** States from which the accept state can be reached. */
    private static boolean[] coreachable(Nfa nfa) {
        int n = nfa.size();
        List<List<Integer>> rev = new ArrayList<>(n);
        for (int i = 0; i < n; i++) rev.add(new ArrayList<>(2));
        for (int s = 0; s < n; s++) {
            for (int t : nfa.eps[s]) rev.get(t).add(s);
            int[] r = nfa.ranges[s];
            for (int i = 0; i < r.length; i += 3) rev.get(r[i + 2]).add(s);
        }
        boolean[] live = new boolean[n];
        ArrayDeque<Integer> q = new ArrayDeque<>();
        live[nfa.accept] = true;
        q.add(nfa.accept);
        while (!q.isEmpty()) {
            for (int p : rev.get(q.poll())) {
                if (!live[p]) {
                    live[p] = true;
                    q.add(p);
                }
            }
        }
        return live;
    }

    private record Key(int[] set) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(set, k.set);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(set);
        }
    }
}
