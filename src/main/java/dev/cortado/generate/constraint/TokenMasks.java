package dev.cortado.generate.constraint;

import java.util.ArrayList;
import java.util.List;

/**
 * The allowed-token masks of one automaton over one vocabulary: for each automaton state (and, for the start state,
 * for the first generated token, whose text the decoder may strip), the tokens whose bytes keep the output
 * completable. Computed on first use by walking the vocabulary trie, then cached. Thread-safe (locks the automaton).
 */
public final class TokenMasks {
    private final Dfa dfa;
    private final TokenVocabulary vocab;
    private final List<long[]> mid = new ArrayList<>();
    /** Identical masks stored once (e.g. every position inside a long string allows the same tokens). */
    private final java.util.Map<Key, long[]> distinct = new java.util.HashMap<>();
    private long[] first;

    TokenMasks(Dfa dfa, TokenVocabulary vocab) {
        this.dfa = dfa;
        this.vocab = vocab;
    }

    public int start() {
        return dfa.start();
    }

    TokenVocabulary vocab() {
        return vocab;
    }

    /** Bit {@code id} is set when token id may follow in {@code state} ({@code atStart}: as the first token). */
    public long[] mask(int state, boolean atStart) {
        synchronized (dfa) {
            if (atStart) {
                if (first == null) first = compute(state, true);
                return first;
            }
            while (mid.size() <= state) mid.add(null);
            long[] m = mid.get(state);
            if (m == null) mid.set(state, m = compute(state, false));
            return m;
        }
    }

    private long[] compute(int state, boolean atStart) {
        long[] m = new long[(vocab.size() + 63) >>> 6];
        try {
            vocab.trie(atStart).allowed(dfa, state, m);
        } catch (Nfa.TooComplex e) {
            throw Dfa.tooLarge();
        }
        return distinct.computeIfAbsent(new Key(m), k -> k.bits);
    }

    /** Masks built so far, and how many of them are distinct. */
    int[] counts() {
        synchronized (dfa) {
            return new int[] {(int) mid.stream().filter(java.util.Objects::nonNull).count() + (first == null ? 0 : 1), distinct.size()};
        }
    }

    private record Key(long[] bits) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && java.util.Arrays.equals(bits, k.bits);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(bits);
        }
    }

    /** The state after token {@code id}, or {@link Dfa#DEAD}. */
    public int next(int state, int id, boolean atStart) {
        byte[] b = vocab.bytesShared(id, atStart);
        if (b == null) return Dfa.DEAD;
        synchronized (dfa) {
            try {
                return dfa.walk(state, b);
            } catch (Nfa.TooComplex e) {
                throw Dfa.tooLarge();
            }
        }
    }

    public boolean accepting(int state) {
        synchronized (dfa) {
            return dfa.accepting(state);
        }
    }
}
