package dev.cortado.generate.constraint;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** An immutable set of Unicode code points as sorted, disjoint, non-adjacent inclusive ranges. */
final class CharClass {
    static final int MAX = 0x10FFFF;
    static final CharClass NONE = new CharClass(new int[0]);
    static final CharClass ANY = range(0, MAX);
    /** java.util.regex {@code .}: anything but the line terminators \n \r U+0085 U+2028 U+2029. */
    static final CharClass DOT = ANY.minus(of('\n', '\r', 0x85, 0x2028, 0x2029));
    static final CharClass DIGIT = range('0', '9');
    static final CharClass WORD = range('a', 'z').union(range('A', 'Z')).union(DIGIT).union(of('_'));
    static final CharClass SPACE = of(' ', '\t', '\n', 0x0B, '\f', '\r');

    private final int[] r; // lo0, hi0, lo1, hi1, ...

    private CharClass(int[] ranges) {
        this.r = ranges;
    }

    static CharClass range(int lo, int hi) {
        return lo > hi ? NONE : new CharClass(new int[] {lo, hi});
    }

    static CharClass of(int... cps) {
        CharClass c = NONE;
        for (int cp : cps) c = c.union(range(cp, cp));
        return c;
    }

    boolean isEmpty() {
        return r.length == 0;
    }

    boolean contains(int cp) {
        for (int i = 0; i < r.length; i += 2) if (cp >= r[i] && cp <= r[i + 1]) return true;
        return false;
    }

    int rangeCount() {
        return r.length / 2;
    }

    int lo(int i) {
        return r[2 * i];
    }

    int hi(int i) {
        return r[2 * i + 1];
    }

    CharClass union(CharClass o) {
        List<int[]> all = new ArrayList<>();
        for (int i = 0; i < r.length; i += 2) all.add(new int[] {r[i], r[i + 1]});
        for (int i = 0; i < o.r.length; i += 2) all.add(new int[] {o.r[i], o.r[i + 1]});
        all.sort((a, b) -> Integer.compare(a[0], b[0]));
        int[] out = new int[all.size() * 2];
        int n = 0;
        for (int[] x : all) {
            if (n > 0 && x[0] <= out[n - 1] + 1) out[n - 1] = Math.max(out[n - 1], x[1]);
            else {
                out[n++] = x[0];
                out[n++] = x[1];
            }
        }
        return new CharClass(Arrays.copyOf(out, n));
    }

    CharClass negate() {
        int[] out = new int[r.length + 2];
        int n = 0, next = 0;
        for (int i = 0; i < r.length; i += 2) {
            if (r[i] > next) {
                out[n++] = next;
                out[n++] = r[i] - 1;
            }
            next = r[i + 1] + 1;
        }
        if (next <= MAX) {
            out[n++] = next;
            out[n++] = MAX;
        }
        return new CharClass(Arrays.copyOf(out, n));
    }

    CharClass intersect(CharClass o) {
        return negate().union(o.negate()).negate();
    }

    CharClass minus(CharClass o) {
        return intersect(o.negate());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CharClass c && Arrays.equals(r, c.r);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(r);
    }
}
