package dev.cortado.tokenizer.pretokenizers;

import dev.cortado.tokenizer.TextPattern;
import dev.cortado.tokenizer.normalizers.Normalizers;

/**
 * Linear-time hand-written matchers for the three pre-tokenizer regexes that matter (no backtracking blow-up on
 * megabytes of spaces or letters):
 * <ul>
 *   <li>GPT-2: {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}</li>
 *   <li>Llama-3 / Qwen2: {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *       ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+} (Qwen: {@code \p{N}} instead of {@code \p{N}{1,3}})</li>
 * </ul>
 */
public final class Gpt2Scanner extends TextPattern {
    public static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String QWEN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private final boolean llama;
    private final int maxDigits;

    private Gpt2Scanner(boolean llama, int maxDigits) {
        this.llama = llama;
        this.maxDigits = maxDigits;
    }

    public static final Gpt2Scanner GPT2_SCANNER = new Gpt2Scanner(false, Integer.MAX_VALUE);

    /** A scanner for a known regex, or null. */
    public static Gpt2Scanner forRegex(String regex) {
        return switch (regex) {
            case GPT2 -> GPT2_SCANNER;
            case LLAMA3 -> new Gpt2Scanner(true, 3);
            case QWEN -> new Gpt2Scanner(true, 1);
            default -> null;
        };
    }

    @Override
    public void findAll(String s, IntPairs out) {
        int n = s.length();
        int i = 0;
        while (i < n) {
            int end = match(s, i, n);
            out.add(i, end);
            i = end;
        }
    }

    private static boolean isL(int cp) {
        return Character.isLetter(cp);
    }

    private static boolean isN(int cp) {
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    private static boolean isS(int cp) {
        return Normalizers.isWhitespace(cp);
    }

    private static boolean isOther(int cp) {
        return !isS(cp) && !isL(cp) && !isN(cp);
    }

    private static int next(String s, int i) {
        return i + Character.charCount(s.codePointAt(i));
    }

    private int contraction(String s, int i, int n) {
        if (s.charAt(i) != '\'' || i + 1 >= n) return -1;
        char a = s.charAt(i + 1);
        if (llama) a = a == '\u017F' ? 's' : Character.toLowerCase(a);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
        if (i + 2 >= n) return -1;
        char b = s.charAt(i + 2);
        if (llama) b = Character.toLowerCase(b);
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
        return -1;
    }

    private static int run(String s, int i, int n, int kind) {
        while (i < n) {
            int cp = s.codePointAt(i);
            boolean ok = switch (kind) {
                case 0 -> isL(cp);
                case 1 -> isN(cp);
                case 2 -> isOther(cp);
                default -> isS(cp);
            };
            if (!ok) break;
            i += Character.charCount(cp);
        }
        return i;
    }

    private int match(String s, int i, int n) {
        int c = contraction(s, i, n);
        if (c >= 0) return c;
        int cp = s.codePointAt(i);
        int j = next(s, i);
        int nx = j < n ? s.codePointAt(j) : -1;
        if (llama) {
            if (isL(cp)) return run(s, j, n, 0);
            if (cp != '\r' && cp != '\n' && !isN(cp) && nx >= 0 && isL(nx)) return run(s, j, n, 0);
            if (isN(cp)) {
                int k = j;
                for (int d = 1; d < maxDigits && k < n && isN(s.codePointAt(k)); d++) k = next(s, k);
                return k;
            }
            int k = -1;
            if (cp == ' ' && nx >= 0 && isOther(nx)) k = run(s, j, n, 2);
            else if (isOther(cp)) k = run(s, j, n, 2);
            if (k >= 0) {
                while (k < n && (s.charAt(k) == '\r' || s.charAt(k) == '\n')) k++;
                return k;
            }
            // whitespace
            int w = run(s, i, n, 3);
            for (int p = w - 1; p >= i; p--) {
                char ch = s.charAt(p);
                if (ch == '\r' || ch == '\n') return p + 1;
            }
            return whitespace(i, w, n);
        }
        if (cp == ' ' && nx >= 0) {
            if (isL(nx)) return run(s, j, n, 0);
            if (isN(nx)) return run(s, j, n, 1);
            if (isOther(nx)) return run(s, j, n, 2);
        }
        if (isL(cp)) return run(s, j, n, 0);
        if (isN(cp)) return run(s, j, n, 1);
        if (isOther(cp)) return run(s, j, n, 2);
        return whitespace(i, run(s, i, n, 3), n);
    }

    /** {@code \s+(?!\S)|\s+} over the whitespace run {@code [i, w)}. */
    private static int whitespace(int i, int w, int n) {
        if (w >= n) return w;
        if (w - i >= 2) return w - 1;
        return w;
    }
}
