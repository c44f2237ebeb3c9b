package dev.cortado.tokenizer;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntPredicate;

/**
 * Translates a tokenizer.json regex, which HF {@code tokenizers} compiles with Oniguruma (Ruby syntax), into RE2/J or
 * java.util.regex syntax with the same meaning (checked against HF {@code tokenizers} in {@code RegexSemanticsTest}):
 * <ul>
 *   <li>{@code ^ $} are line anchors (before/after {@code \n} only); {@code .} does not match {@code \n}, and
 *       Ruby's {@code (?m)} means "dot matches newline" ({@code (?s)} elsewhere);</li>
 *   <li>{@code \s \w \d} are Unicode (White_Space; Alphabetic, marks, Nd, Pc; Nd), {@code \h} is a hex digit,
 *       {@code \p{..}} general categories and scripts are expanded from the JDK's Unicode tables (as the
 *       hand-written scanners use), so every engine sees the same sets;</li>
 *   <li>an isolated option {@code a(?i)b|c} scopes to the rest of its group, alternatives included
 *       ({@code a(?i:b|c)});</li>
 *   <li>the escapes x, u (hex), 0 (octal), e, v, {@code {,n}} = {@code {0,n}}.</li>
 * </ul>
 * Features RE2 lacks (lookaround, backreferences, atomic groups, possessive quantifiers, {@code \b}) make
 * {@link #translate} throw {@link NeedsBacktracking}; anything with no exact equivalent (POSIX brackets, nested or
 * intersected classes, {@code (?x)}, {@code \Z \R \X \K \G \Q}, multi-character case folds under {@code (?i)})
 * throws {@link IllegalArgumentException} naming it.
 */
final class OnigSyntax {
    enum Target { RE2, JAVA }

    /** The pattern needs a backtracking engine (the feature is named in the message). */
    static final class NeedsBacktracking extends Exception {
        NeedsBacktracking(String feature) {
            super(feature, null, false, false);
        }
    }

    private static final Map<String, String> RANGES = new ConcurrentHashMap<>();
    private static final String HEX = "0-9a-fA-F";

    private final String p;
    private final Target target;
    private final StringBuilder out = new StringBuilder();
    private final StringBuilder literals = new StringBuilder();
    private final Deque<Integer> extraClose = new ArrayDeque<>();
    private boolean caseInsensitive;
    private int i;

    private OnigSyntax(String p, Target target) {
        this.p = p;
        this.target = target;
    }

    static String translate(String onig, Target target) throws NeedsBacktracking {
        OnigSyntax t = new OnigSyntax(onig, target);
        t.run();
        return t.out.toString();
    }

    private static IllegalArgumentException unsupported(String what) {
        return new IllegalArgumentException(what + " is not supported (no linear-time equivalent with the same meaning)");
    }

    private void run() throws NeedsBacktracking {
        out.append("(?m)");
        extraClose.push(0);
        while (i < p.length()) {
            char c = p.charAt(i);
            switch (c) {
                case '\\' -> escape();
                case '[' -> charClass();
                case '(' -> group();
                case ')' -> {
                    if (extraClose.size() < 2) throw new IllegalArgumentException("unbalanced ')' at " + i);
                    out.append(")".repeat(extraClose.pop())).append(')');
                    i++;
                    quantifierSuffix();
                }
                case '{' -> braces();
                case '*', '+', '?' -> {
                    out.append(c);
                    i++;
                    quantifierSuffix();
                }
                case '.', '^', '$', '|' -> {
                    out.append(c);
                    i++;
                }
                default -> {
                    int cp = p.codePointAt(i);
                    literal(cp);
                    i += Character.charCount(cp);
                }
            }
        }
        if (extraClose.size() != 1) throw new IllegalArgumentException("missing ')'");
        out.append(")".repeat(extraClose.pop()));
        if (caseInsensitive) checkCaseFolds();
    }

    private void literal(int cp) {
        literals.appendCodePoint(cp);
        if (cp < 0x20 || cp >= 0x7F) out.append(String.format("\\x{%X}", cp));
        else if (!Character.isLetterOrDigit(cp) && cp != ' ' && cp != '_') out.append('\\').append((char) cp);
        else out.append((char) cp);
    }

    /** After a quantifier: lazy {@code ?} passes; possessive {@code +} needs backtracking. */
    private void quantifierSuffix() throws NeedsBacktracking {
        if (i >= p.length()) return;
        char c = p.charAt(i);
        if (c == '?' && out.length() > 0 && isQuantifierEnd(out.charAt(out.length() - 1))) {
            out.append('?');
            i++;
        } else if (c == '+' && out.length() > 0 && isQuantifierEnd(out.charAt(out.length() - 1))) {
            if (out.charAt(out.length() - 1) == '}') throw unsupported("'{n,m}+' (Ruby reads it as a repeat, Java as possessive)");
            if (target == Target.RE2) throw new NeedsBacktracking("a possessive quantifier");
            out.append('+');
            i++;
        }
    }

    private static boolean isQuantifierEnd(char c) {
        return c == '*' || c == '+' || c == '?' || c == '}';
    }

    private void braces() throws NeedsBacktracking {
        int close = p.indexOf('}', i);
        String body = close < 0 ? null : p.substring(i + 1, close);
        if (body == null || !body.matches("\\d*(,\\d*)?") || body.isEmpty() || body.equals(",")) {
            literal('{');
            i++;
            return;
        }
        if (body.startsWith(",")) body = "0" + body;
        out.append('{').append(body).append('}');
        i = close + 1;
        quantifierSuffix();
    }

    private void group() throws NeedsBacktracking {
        if (!p.startsWith("(?", i)) {
            out.append('(');
            extraClose.push(0);
            i++;
            return;
        }
        String rest = p.substring(i + 2, Math.min(p.length(), i + 4));
        if (rest.startsWith(":")) {
            out.append("(?:");
            extraClose.push(0);
            i += 3;
            return;
        }
        if (rest.startsWith("=") || rest.startsWith("!") || rest.startsWith("<=") || rest.startsWith("<!")
                || rest.startsWith(">")) {
            if (target == Target.RE2) throw new NeedsBacktracking(rest.startsWith(">") ? "an atomic group" : "lookaround");
            int len = rest.startsWith("<") ? 4 : 3;
            out.append(p, i, i + len);
            extraClose.push(0);
            i += len;
            return;
        }
        if (rest.startsWith("<") || rest.startsWith("'")) {
            char end = rest.charAt(0) == '<' ? '>' : '\'';
            int close = p.indexOf(end, i + 3);
            if (close < 0) throw new IllegalArgumentException("unterminated group name at " + i);
            String name = p.substring(i + 3, close);
            out.append(target == Target.RE2 ? "(?P<" : "(?<").append(name).append('>');
            extraClose.push(0);
            i = close + 1;
            return;
        }
        if (rest.startsWith("#")) {
            int close = p.indexOf(')', i);
            if (close < 0) throw new IllegalArgumentException("unterminated comment at " + i);
            i = close + 1;
            return;
        }
        int k = i + 2;
        StringBuilder flags = new StringBuilder();
        while (k < p.length() && "imx-".indexOf(p.charAt(k)) >= 0) {
            char f = p.charAt(k++);
            if (f == 'x') throw unsupported("extended mode (?x)");
            if (f == 'i') caseInsensitive = true;
            flags.append(f == 'm' ? 's' : f);
        }
        if (k >= p.length() || (p.charAt(k) != ':' && p.charAt(k) != ')') || flags.isEmpty()
                || flags.toString().endsWith("-"))
            throw unsupported("the group '" + p.substring(i, Math.min(p.length(), i + 4)) + "'");
        String f = flags.toString();
        if (p.charAt(k) == ':') {
            out.append("(?").append(f).append(':');
            extraClose.push(0);
        } else {
            // Oniguruma: an isolated option applies to the rest of the enclosing group, alternatives included
            out.append("(?").append(f).append(':');
            extraClose.push(extraClose.pop() + 1);
        }
        i = k + 1;
    }

    private void escape() throws NeedsBacktracking {
        if (i + 1 >= p.length()) throw new IllegalArgumentException("trailing backslash");
        char e = p.charAt(i + 1);
        i += 2;
        String cls = shorthand(e);
        if (cls != null) {
            out.append(cls);
            return;
        }
        switch (e) {
            case 'b', 'B' -> {
                if (target == Target.RE2) throw new NeedsBacktracking("\\" + e);
                out.append('\\').append(e);
            }
            case 'A', 'z' -> out.append('\\').append(e);
            case 'k' -> {
                if (target == Target.RE2) throw new NeedsBacktracking("a backreference");
                int close = p.indexOf('>', i);
                if (!p.startsWith("<", i) || close < 0) throw unsupported("'\\k' without <name>");
                out.append("\\k").append(p, i, close + 1);
                i = close + 1;
            }
            default -> {
                if (e >= '1' && e <= '9') {
                    if (target == Target.RE2) throw new NeedsBacktracking("a backreference");
                    out.append('\\').append(e);
                    return;
                }
                i -= 1;
                literal(escapedChar(e));
            }
        }
    }

    /** A one-character escape ({@code p[i]} is the character after the backslash); advances past it. */
    private int escapedChar(char e) {
        i++;
        switch (e) {
            case 't': return '\t';
            case 'n': return '\n';
            case 'r': return '\r';
            case 'f': return '\f';
            case 'v': return 0x0B;
            case 'a': return 0x07;
            case 'e': return 0x1B;
            case 'x': {
                if (p.startsWith("{", i)) {
                    int close = p.indexOf('}', i);
                    if (close < 0) throw new IllegalArgumentException("unterminated \\x{");
                    int cp = hex(p.substring(i + 1, close));
                    i = close + 1;
                    return cp;
                }
                int k = i;
                while (k < p.length() && k < i + 2 && Character.digit(p.charAt(k), 16) >= 0) k++;
                int cp = hex(p.substring(i, k));
                i = k;
                return cp;
            }
            case 'u': {
                if (i + 4 > p.length()) throw new IllegalArgumentException("\\u needs 4 hex digits");
                int cp = hex(p.substring(i, i + 4));
                i += 4;
                return cp;
            }
            case '0': {
                int k = i, v = 0;
                while (k < p.length() && k < i + 2 && p.charAt(k) >= '0' && p.charAt(k) <= '7') v = v * 8 + p.charAt(k++) - '0';
                i = k;
                return v;
            }
            default:
                if (Character.isLetterOrDigit(e)) throw unsupported("the escape '\\" + e + "'");
                if (Character.isHighSurrogate(e) && i < p.length()) return Character.toCodePoint(e, p.charAt(i++));
                return e;
        }
    }

    private static int hex(String s) {
        try {
            int cp = Integer.parseInt(s, 16);
            if (s.isEmpty() || cp > Character.MAX_CODE_POINT || (cp >= 0xD800 && cp <= 0xDFFF)) throw new NumberFormatException();
            return cp;
        } catch (NumberFormatException ex) {
            throw new IllegalArgumentException("bad hex escape '" + s + "'");
        }
    }

    /** {@code \s \S \w \W \d \D \h \H \p{..} \P{..}} as a bracketed class; null for other escapes. */
    private String shorthand(char e) {
        if (e == 'w' || e == 'W') return "[" + ranges("bw", OnigSyntax::isBareWord, e == 'W') + "]";
        String body = classBody(e);
        if (body == null) return null;
        return "[" + body + "]";
    }

    /** The ranges (for a character class body) of a shorthand class; null for other escapes. Advances past it. */
    private String classBody(char e) {
        return switch (e) {
            case 's' -> ranges("s", OnigSyntax::isSpace, false);
            case 'S' -> ranges("s", OnigSyntax::isSpace, true);
            case 'w' -> ranges("w", OnigSyntax::isWord, false);
            case 'W' -> ranges("w", OnigSyntax::isWord, true);
            case 'd' -> ranges("d", OnigSyntax::isDigit, false);
            case 'D' -> ranges("d", OnigSyntax::isDigit, true);
            case 'h' -> HEX;
            case 'H' -> ranges("h", cp -> cp < 128 && Character.digit(cp, 16) >= 0, true);
            case 'p', 'P' -> property(e == 'P');
            default -> null;
        };
    }

    private String property(boolean negated) {
        String name;
        if (p.startsWith("{", i)) {
            int close = p.indexOf('}', i);
            if (close < 0) throw new IllegalArgumentException("unterminated \\p{");
            name = p.substring(i + 1, close);
            i = close + 1;
        } else if (i < p.length()) {
            name = String.valueOf(p.charAt(i++));
        } else {
            throw new IllegalArgumentException("\\p without a property name");
        }
        if (name.startsWith("^")) {
            negated = !negated;
            name = name.substring(1);
        }
        IntPredicate pred = propertyPredicate(name);
        if (pred == null) throw unsupported("the property \\p{" + name + "}");
        return ranges("p" + name, pred, negated);
    }

    /** General category codes by {@link Character#getType} value (17 is unused). */
    private static final String[] CATEGORY = {"Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Me", "Mc", "Nd", "Nl", "No",
        "Zs", "Zl", "Zp", "Cc", "Cf", "", "Co", "Cs", "Pd", "Ps", "Pe", "Pc", "Po", "Sm", "Sc", "Sk", "So", "Pi", "Pf"};

    private static IntPredicate propertyPredicate(String name) {
        if (name.equals("Any")) return cp -> true;
        for (int t = 0; t < CATEGORY.length; t++) {
            if (!CATEGORY[t].isEmpty() && CATEGORY[t].equals(name)) {
                int type = t;
                return cp -> Character.getType(cp) == type;
            }
        }
        if (name.length() == 1 && "LMNZCPS".contains(name)) {
            char major = name.charAt(0);
            return cp -> CATEGORY[Character.getType(cp)].charAt(0) == major;
        }
        try {
            Character.UnicodeScript script = Character.UnicodeScript.forName(name);
            return cp -> Character.UnicodeScript.of(cp) == script;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Unicode White_Space, as Oniguruma's {@code \s}. */
    static boolean isSpace(int cp) {
        return dev.cortado.tokenizer.normalizers.Normalizers.isWhitespace(cp);
    }

    /** Oniguruma's Unicode {@code \d}: Nd. */
    static boolean isDigit(int cp) {
        return Character.getType(cp) == Character.DECIMAL_DIGIT_NUMBER;
    }

    /**
     * Oniguruma's Unicode {@code \w} inside a bracket class and its complement {@code \W}: Alphabetic, marks,
     * decimal digits, connector punctuation. (Outside brackets, {@code \w} also matches ²³¹¼½¾ and {@code \W}
     * does not: an Oniguruma quirk, reproduced by {@link #isBareWord}.)
     */
    static boolean isWord(int cp) {
        if (Character.isAlphabetic(cp)) return true;
        int t = Character.getType(cp);
        return t == Character.NON_SPACING_MARK || t == Character.COMBINING_SPACING_MARK
                || t == Character.ENCLOSING_MARK || t == Character.DECIMAL_DIGIT_NUMBER
                || t == Character.CONNECTOR_PUNCTUATION;
    }

    /** A bare {@code \w} (outside brackets). */
    static boolean isBareWord(int cp) {
        return isWord(cp) || cp == 0xB2 || cp == 0xB3 || cp == 0xB9 || cp == 0xBC || cp == 0xBD || cp == 0xBE;
    }

    /** {@code \x{a}-\x{b}...} for the code points (surrogates excluded) where {@code pred != negated}. */
    private static String ranges(String key, IntPredicate pred, boolean negated) {
        return RANGES.computeIfAbsent(key + (negated ? "^" : ""), k -> {
            StringBuilder sb = new StringBuilder();
            int start = -1;
            for (int cp = 0; cp <= Character.MAX_CODE_POINT + 1; cp++) {
                boolean in = cp <= Character.MAX_CODE_POINT && !(cp >= 0xD800 && cp <= 0xDFFF)
                        && pred.test(cp) != negated;
                if (in) {
                    if (start < 0) start = cp;
                } else if (start >= 0) {
                    sb.append(String.format("\\x{%X}", start));
                    if (cp - 1 > start) sb.append(String.format("-\\x{%X}", cp - 1));
                    start = -1;
                }
            }
            if (sb.isEmpty()) throw unsupported("an empty character set");
            return sb.toString();
        });
    }

    private void charClass() {
        out.append('[');
        i++;
        if (p.startsWith("^", i)) {
            out.append('^');
            i++;
        }
        boolean first = true;
        while (true) {
            if (i >= p.length()) throw new IllegalArgumentException("unterminated character class");
            char c = p.charAt(i);
            if (c == ']' && !first) break;
            first = false;
            if (c == '[') throw unsupported(p.startsWith("[:", i) ? "a POSIX bracket class like [:alpha:]"
                    : "a nested character class");
            if (c == '&' && p.startsWith("&&", i)) throw unsupported("character class intersection (&&)");
            if (c == '-') {
                out.append('-');
                i++;
                continue;
            }
            if (c == '\\' && i + 1 < p.length()) {
                char e = p.charAt(i + 1);
                i += 2;
                String body = classBody(e);
                if (body != null) {
                    out.append(body);
                    continue;
                }
                if (e == 'b') {
                    classLiteral(0x08);
                    continue;
                }
                i -= 1;
                classLiteral(escapedChar(e));
                continue;
            }
            int cp = p.codePointAt(i);
            i += Character.charCount(cp);
            classLiteral(cp);
        }
        out.append(']');
        i++;
    }

    private void classLiteral(int cp) {
        literals.appendCodePoint(cp);
        out.append(String.format("\\x{%X}", cp));
    }

    /**
     * Oniguruma folds case across several characters under {@code (?i)} ({@code ß} matches {@code ss},
     * {@code ﬁ} matches {@code fi}); RE2/J and java.util.regex fold one character at a time.
     */
    private void checkCaseFolds() {
        String lit = literals.toString();
        for (int k = 0; k < lit.length(); ) {
            int cp = lit.codePointAt(k);
            String s = Character.toString(cp);
            if (s.toUpperCase(Locale.ROOT).length() != s.length() || s.toLowerCase(Locale.ROOT).length() != s.length())
                throw unsupported("(?i) with '" + s + "' (Oniguruma folds it to several characters)");
            k += Character.charCount(cp);
        }
        String lower = lit.toLowerCase(Locale.ROOT);
        for (String seq : new String[] {"ss", "st", "ff", "fi", "fl"}) {
            if (lower.contains(seq))
                throw unsupported("(?i) with '" + seq + "' (Oniguruma also matches its one-character case fold, e.g. 'ß' or 'ﬁ')");
        }
    }
}
