package dev.cortado.generate.constraint;

import java.util.function.Consumer;

/**
 * Splits a code point range into sequences of UTF-8 byte ranges (the algorithm of Rust's regex-syntax
 * {@code Utf8Sequences}): every code point of the range, and nothing else, is encoded by exactly one sequence, each
 * byte lying in its range. Surrogates are skipped (they are not encodable).
 */
final class Utf8Ranges {
    private Utf8Ranges() {}

    private static final int[] MAX_BY_LEN = {0x7F, 0x7FF, 0xFFFF, 0x10FFFF};

    /** Calls {@code out} with {lo0, hi0, lo1, hi1, ...} byte ranges for each sequence. */
    static void split(int lo, int hi, Consumer<int[]> out) {
        if (lo > hi) return;
        if (lo <= 0xDFFF && hi >= 0xD800) {
            if (lo < 0xD800) split(lo, 0xD7FF, out);
            if (hi > 0xDFFF) split(0xE000, hi, out);
            return;
        }
        for (int max : MAX_BY_LEN) {
            if (lo <= max && hi > max) {
                split(lo, max, out);
                split(max + 1, hi, out);
                return;
            }
        }
        int n = length(lo);
        for (int i = 1; i < n; i++) {
            int m = (1 << (6 * i)) - 1;
            if ((lo & ~m) != (hi & ~m)) {
                if ((lo & m) != 0) {
                    split(lo, lo | m, out);
                    split((lo | m) + 1, hi, out);
                    return;
                }
                if ((hi & m) != m) {
                    split(lo, (hi & ~m) - 1, out);
                    split(hi & ~m, hi, out);
                    return;
                }
            }
        }
        int[] a = encode(lo), b = encode(hi);
        int[] seq = new int[2 * n];
        for (int k = 0; k < n; k++) {
            seq[2 * k] = a[k];
            seq[2 * k + 1] = b[k];
        }
        out.accept(seq);
    }

    static int length(int cp) {
        return cp <= 0x7F ? 1 : cp <= 0x7FF ? 2 : cp <= 0xFFFF ? 3 : 4;
    }

    static int[] encode(int cp) {
        return switch (length(cp)) {
            case 1 -> new int[] {cp};
            case 2 -> new int[] {0xC0 | cp >> 6, 0x80 | cp & 0x3F};
            case 3 -> new int[] {0xE0 | cp >> 12, 0x80 | cp >> 6 & 0x3F, 0x80 | cp & 0x3F};
            default -> new int[] {0xF0 | cp >> 18, 0x80 | cp >> 12 & 0x3F, 0x80 | cp >> 6 & 0x3F, 0x80 | cp & 0x3F};
        };
    }
}
