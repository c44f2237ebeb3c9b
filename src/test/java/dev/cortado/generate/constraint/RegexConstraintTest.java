package dev.cortado.generate.constraint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The regex automaton against java.util.regex: on random strings over the pattern's alphabet, full acceptance equals
 * {@code matches()} and "can still be completed" equals {@code matches() || hitEnd()}; random walks through the
 * automaton give strings java.util.regex matches.
 */
class RegexConstraintTest {
    static final List<String> PATTERNS = List.of(
            "[a-z]+ (is|was) [0-9]{1,3}", "(ab|a)*c", "\\d{3}-\\d{4}", "colou?r", "[^abc]{2,4}x", "(x|yz)+",
            "a{2,}b{0,2}", "\\w+@\\w+\\.(com|org)", "(?:foo|bar|baz)(,(?:foo|bar|baz))*", "[αβγ]+é?",
            "-?(0|[1-9]\\d*)(\\.\\d+)?", "[\\s\\S]{0,3}q", "\\x41\\u00e9[\\x30-\\x32]+", "a.b.c", "^(yes|no)$",
            "(a|b|)+c", "[-a]+", "[]a]b", "\\.\\*\\+", "x*?y+?", "(?<word>[a-c]{2})z");

    private static final String ALPHABET = "abcxyzqr019-,.@ \tαβγéA2\n*+]";

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
    void agreesWithJavaUtilRegex(int index) {
        String pat = PATTERNS.get(index);
        Constraint c = Constraint.regex(pat);
        Pattern p = Pattern.compile(pat);
        Random rnd = new Random(index);
        int[] cps = ALPHABET.codePoints().toArray();
        for (int n = 0; n < 3000; n++) {
            StringBuilder sb = new StringBuilder();
            int len = rnd.nextInt(8);
            for (int k = 0; k < len; k++) sb.appendCodePoint(cps[rnd.nextInt(cps.length)]);
            check(c, p, sb.toString());
        }
        Dfa dfa = c.dfa();
        for (int n = 0; n < 300; n++) {
            String s = walk(dfa, rnd);
            assertTrue(p.matcher(s).matches(), pat + " random walk gave " + s);
            for (int k = 0; k <= s.length(); k++) check(c, p, s.substring(0, k));
        }
    }

    static void check(Constraint c, Pattern p, String s) {
        Matcher m = p.matcher(s);
        boolean full = m.matches();
        boolean viable = full || m.hitEnd();
        assertEquals(full, c.matches(s), () -> p + " matches " + esc(s));
        assertEquals(viable, c.isPrefix(s), () -> p + " prefix " + esc(s));
    }

    /** A random accepted string: random bytes through the automaton until it stops in an accepting state. */
    static String walk(Dfa dfa, Random rnd) {
        synchronized (dfa) {
            byte[] buf = new byte[256];
            int n = 0, s = dfa.start();
            while (n < 200) {
                if (dfa.accepting(s) && (rnd.nextInt(4) == 0 || n > 40)) break;
                int[] next = new int[256];
                int k = 0;
                for (int b = 0; b < 256; b++) if (dfa.step(s, b) >= 0) next[k++] = b;
                if (k == 0) break;
                int b = next[rnd.nextInt(k)];
                if (n > 40) { // head for the nearest accepting state
                    int best = Integer.MAX_VALUE;
                    for (int j = 0; j < k; j++) {
                        int d = distance(dfa, dfa.step(s, next[j]));
                        if (d < best) { best = d; b = next[j]; }
                    }
                }
                buf[n++] = (byte) b;
                s = dfa.step(s, b);
            }
            assertTrue(dfa.accepting(s));
            return new String(buf, 0, n, StandardCharsets.UTF_8);
        }
    }

    /** Bytes from {@code s} to the nearest accepting state (breadth-first). */
    static int distance(Dfa dfa, int s) {
        java.util.Map<Integer, Integer> dist = new java.util.HashMap<>();
        java.util.ArrayDeque<Integer> q = new java.util.ArrayDeque<>();
        dist.put(s, 0);
        q.add(s);
        while (!q.isEmpty()) {
            int x = q.poll();
            if (dfa.accepting(x)) return dist.get(x);
            for (int b = 0; b < 256; b++) {
                int y = dfa.step(x, b);
                if (y >= 0 && dist.putIfAbsent(y, dist.get(x) + 1) == null) q.add(y);
            }
        }
        return Integer.MAX_VALUE;
    }

    static String esc(String s) {
        return s.replace("\n", "\\n").replace("\t", "\\t");
    }

    @Test
    void unsupportedConstructsAreNamed() {
        for (String[] c : new String[][] {{"(a)\\1", "backreference"}, {"a(?=b)", "lookaround"}, {"\\bword", "word boundary"},
                {"(?i)abc", "flags"}, {"a++", "possessive"}, {"a{2000}", "above 1000"}, {"(ab", "missing ')'"},
                {"ab)", "unbalanced"}, {"*a", "nothing to repeat"}, {"a$b", "'$'"}, {"[z-a]", "out of order"},
                {"\\p{L}", "Unicode property"}}) {
            CortadoException e = assertThrows(CortadoException.class, () -> Constraint.regex(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            assertTrue(e.getMessage().startsWith("regex /"), e.getMessage());
        }
    }
}
