package dev.cortado.tokenizer;

import dev.cortado.tokenizer.pretokenizers.Gpt2Scanner;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tokenizer.json {@code pattern}: {@code {"String": "..."}} (literal) or {@code {"Regex": "..."}}. The GPT-2 and
 * Llama-3/Qwen pre-tokenizer regexes run as hand-written linear scanners; any other regex runs through
 * java.util.regex with Unicode character classes.
 */
public abstract class TextPattern {

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
        Pattern p;
        try {
            p = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE);
        } catch (RuntimeException e) {
            throw Json.error(jsonPath, "invalid regex: " + e.getMessage().lines().findFirst().orElse(""));
        }
        return new TextPattern() {
            @Override
            public void findAll(String text, IntPairs out) {
                Matcher m = p.matcher(text);
                while (m.find()) {
                    if (m.end() > m.start()) out.add(m.start(), m.end());
                }
            }
        };
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
