package dev.cortado.tokenizer;

import dev.cortado.tokenizer.pretokenizers.Gpt2Scanner;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tokenizer.json {@code pattern}: {@code {"String": "..."}} (literal) or {@code {"Regex": "..."}}. The GPT-2 and
 * Llama-3/Qwen pre-tokenizer regexes run as hand-written linear scanners; any other regex is translated from
 * Oniguruma syntax (what HF compiles it with, see {@link OnigSyntax}) and runs on RE2/J, in time linear in the
 * input. A regex that needs backtracking (lookaround, backreferences) runs on java.util.regex with a step budget
 * linear in the input: past it, encoding fails with an error naming the regex, never hangs.
 */
public abstract class TextPattern {
    /** java.util.regex fallback: character reads allowed per input character, plus a fixed allowance. */
    static final long STEPS_PER_CHAR = 256, STEPS_FIXED = 1_000_000;

    /** Appends match ranges as (start, end) pairs, in order, non-overlapping. */
    public abstract void findAll(String text, IntPairs out);

    public static TextPattern fromJson(Json j) {
        if (j.has("String")) return literal(j.str("String"));
        if (j.has("Regex")) return regex(j.str("Regex"), j.get("Regex").path());
        throw j.error("pattern must have a 'String' or 'Regex' field");
    }

    public static TextPattern literal(String s) {
        return new TextPattern() {
            @Override
            public void findAll(String text, IntPairs out) {
                if (s.isEmpty()) return;
                for (int i = text.indexOf(s); i >= 0; i = text.indexOf(s, i + s.length())) out.add(i, i + s.length());
            }

            @Override
            public String replaceAll(String text, String content) {
                return s.isEmpty() ? text : text.replace(s, content);
            }
        };
    }

    public static TextPattern regex(String regex, String jsonPath) {
        Gpt2Scanner scanner = Gpt2Scanner.forRegex(regex);
        if (scanner != null) return scanner;
        try {
            com.google.re2j.Pattern p = com.google.re2j.Pattern.compile(
                    OnigSyntax.translate(regex, OnigSyntax.Target.RE2));
            return new TextPattern() {
                @Override
                public void findAll(String text, IntPairs out) {
                    com.google.re2j.Matcher m = p.matcher(text);
                    while (m.find()) {
                        if (m.end() > m.start()) out.add(m.start(), m.end());
                    }
                }
            };
        } catch (OnigSyntax.NeedsBacktracking nb) {
            return bounded(regex, jsonPath, nb.getMessage());
        } catch (com.google.re2j.PatternSyntaxException e) {
            throw Json.error(jsonPath, "invalid regex " + Json.quote(regex) + ": " + e.getDescription());
        } catch (IllegalArgumentException e) {
            throw Json.error(jsonPath, "invalid regex " + Json.quote(regex) + ": " + e.getMessage());
        } catch (StackOverflowError e) {
            throw Json.error(jsonPath, "invalid regex " + Json.quote(regex) + ": nested too deeply");
        }
    }

    /** java.util.regex with a budget of character reads linear in the input (for lookaround, backreferences). */
    private static TextPattern bounded(String regex, String jsonPath, String feature) {
        Pattern p;
        try {
            p = Pattern.compile(OnigSyntax.translate(regex, OnigSyntax.Target.JAVA), Pattern.MULTILINE
                    | Pattern.UNIX_LINES | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);
        } catch (OnigSyntax.NeedsBacktracking impossible) {
            throw new IllegalStateException(impossible);
        } catch (RuntimeException e) {
            throw Json.error(jsonPath, "invalid regex " + Json.quote(regex) + ": "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        } catch (StackOverflowError e) {
            throw Json.error(jsonPath, "invalid regex " + Json.quote(regex) + ": nested too deeply");
        }
        return new TextPattern() {
            @Override
            public void findAll(String text, IntPairs out) {
                long budget = STEPS_FIXED + STEPS_PER_CHAR * text.length();
                Matcher m = p.matcher(new BudgetChars(text, budget));
                try {
                    while (m.find()) {
                        if (m.end() > m.start()) out.add(m.start(), m.end());
                    }
                } catch (BudgetChars.Exhausted | StackOverflowError e) {
                    throw Json.error(jsonPath, "regex " + Json.quote(regex) + " uses " + feature + ", so it runs on a"
                            + " backtracking engine, and it backtracks too much on this " + text.length()
                            + "-character input (over " + budget + " steps); rewrite it without " + feature
                            + " to run in linear time");
                }
            }
        };
    }

    /** The text with a budget of {@code charAt} calls: bounds java.util.regex's backtracking. */
    private static final class BudgetChars implements CharSequence {
        static final class Exhausted extends RuntimeException {
            Exhausted() {
                super(null, null, false, false);
            }
        }

        private final String s;
        private long left;

        BudgetChars(String s, long budget) {
            this.s = s;
            this.left = budget;
        }

        @Override
        public char charAt(int index) {
            if (--left < 0) throw new Exhausted();
            return s.charAt(index);
        }

        @Override
        public int length() {
            return s.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return s.subSequence(start, end);
        }

        @Override
        public String toString() {
            return s;
        }
    }

    public String replaceAll(String text, String content) {
        IntPairs m = new IntPairs();
        findAll(text, m);
        if (m.size() == 0) return text;
        StringBuilder sb = new StringBuilder(text.length());
        int last = 0;
        for (int k = 0; k < m.size(); k++) {
            sb.append(text, last, m.start(k)).append(content);
            last = m.end(k);
        }
        return sb.append(text, last, text.length()).toString();
    }

    /** Flat list of (start, end) pairs. */
    public static final class IntPairs {
        private int[] a = new int[32];
        private int n;

        public void add(int start, int end) {
            if (n + 2 > a.length) a = java.util.Arrays.copyOf(a, a.length * 2);
            a[n++] = start;
            a[n++] = end;
        }

        public int size() {
            return n / 2;
        }

        public int start(int k) {
            return a[2 * k];
        }

        public int end(int k) {
            return a[2 * k + 1];
        }

        public void clear() {
            n = 0;
        }

        public List<int[]> toList() {
            List<int[]> l = new ArrayList<>();
            for (int k = 0; k < size(); k++) l.add(new int[] {start(k), end(k)});
            return l;
        }
    }
}
