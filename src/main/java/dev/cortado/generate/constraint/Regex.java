package dev.cortado.generate.constraint;

import dev.cortado.CortadoException;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A regular-expression subset compiled to an {@link Nfa} that accepts exactly the strings the pattern matches in
 * full (java.util.regex {@code matches()}). Supported: literals, escapes ({@code \d \w \s \D \W \S \n \r \t \f \e
 * \0oo \xhh \x{h..} &#92;uhhhh}, escaped punctuation), classes {@code [a-z_]}, {@code [^...]}, {@code .}, groups
 * {@code (...)}, {@code (?:...)}, {@code (?<name>...)}, alternation, quantifiers {@code * + ? {n} {n,} {n,m}} (lazy
 * forms match the same strings), and {@code ^}/{@code $} at the ends. Anything else (backreferences, lookaround,
 * word boundaries, flags, possessive quantifiers) is an error naming the construct.
 */
final class Regex {
    /** The largest counted repetition accepted. */
    static final int MAX_REPEAT = 1000;

    private final String p;
    private final Function<CharClass, Nfa> leaf;
    private int i;

    private Regex(String pattern, Function<CharClass, Nfa> leaf) {
        this.p = pattern;
        this.leaf = leaf;
    }

    /** Compiles {@code pattern}; {@code leaf} turns one character class into an automaton (e.g. JSON-escaped). */
    static Nfa compile(String pattern, Function<CharClass, Nfa> leaf) {
        Regex r = new Regex(pattern, leaf);
        if (r.peek('^')) r.i++;
        Nfa n = r.alternation();
        if (r.i < r.p.length()) {
            if (r.p.charAt(r.i) == ')') throw r.error("unbalanced ')'");
            throw r.error("unexpected '" + r.p.charAt(r.i) + "'");
        }
        return n;
    }

    static Nfa compile(String pattern) {
        return compile(pattern, Nfa::charClass);
    }

    private Nfa alternation() {
        List<Nfa> alts = new ArrayList<>();
        alts.add(sequence());
        while (peek('|')) {
            i++;
            alts.add(sequence());
        }
        return Nfa.alt(alts);
    }

    private Nfa sequence() {
        List<Nfa> parts = new ArrayList<>();
        while (i < p.length() && p.charAt(i) != '|' && p.charAt(i) != ')') {
            if (p.charAt(i) == '$') {
                if (i == p.length() - 1) {
                    i++;
                    break;
                }
                throw error("'$' is only supported at the end of the pattern");
            }
            parts.add(quantified(atom()));
        }
        return Nfa.concat(parts);
    }

    private Nfa quantified(Nfa a) {
        while (i < p.length()) {
            char c = p.charAt(i);
            int min, max;
            if (c == '*') { min = 0; max = -1; i++; }
            else if (c == '+') { min = 1; max = -1; i++; }
            else if (c == '?') { min = 0; max = 1; i++; }
            else if (c == '{' && counted()) {
                i++;
                min = number();
                max = min;
                if (peek(',')) {
                    i++;
                    max = peek('}') ? -1 : number();
                }
                expect('}');
                if (max >= 0 && max < min) throw error("repetition {" + min + "," + max + "} has max < min");
                if (Math.max(min, max) > MAX_REPEAT)
                    throw error("repetition count above " + MAX_REPEAT + " is not supported");
            } else return a;
            if (peek('?')) i++; // lazy: same language
            else if (peek('+')) throw error("possessive quantifiers are not supported");
            a = Nfa.repeat(a, min, max);
        }
        return a;
    }

    /** Whether a '{' at i starts a counted repetition ({n}, {n,}, {n,m}). */
    private boolean counted() {
        int j = i + 1;
        int d = j;
        while (j < p.length() && Character.isDigit(p.charAt(j))) j++;
        if (j == d) return false;
        if (j < p.length() && p.charAt(j) == '}') return true;
        if (j >= p.length() || p.charAt(j) != ',') return false;
        j++;
        while (j < p.length() && Character.isDigit(p.charAt(j))) j++;
        return j < p.length() && p.charAt(j) == '}';
    }

    private int number() {
        int s = i;
        while (i < p.length() && Character.isDigit(p.charAt(i))) i++;
        try {
            return Integer.parseInt(p.substring(s, i));
        } catch (NumberFormatException e) {
            throw error("repetition count is too large");
        }
    }

    private Nfa atom() {
        char c = p.charAt(i);
        switch (c) {
            case '(' -> {
                i++;
                if (peek('?')) {
                    i++;
                    if (peek(':')) i++;
                    else if (peek('<') && i + 1 < p.length() && Character.isLetter(p.charAt(i + 1))) {
                        int close = p.indexOf('>', i);
                        if (close < 0) throw error("unterminated group name");
                        i = close + 1;
                    } else throw error("group construct '(?" + (i < p.length() ? p.charAt(i) : "")
                            + "' (lookaround, flags) is not supported");
                }
                Nfa inner = alternation();
                expect(')');
                return inner;
            }
            case '[' -> {
                return leaf.apply(bracket());
            }
            case '.' -> {
                i++;
                return leaf.apply(CharClass.DOT);
            }
            case '\\' -> {
                return leaf.apply(escape(false));
            }
            case '*', '+', '?' -> throw error("'" + c + "' has nothing to repeat");
            case '^' -> throw error("'^' is only supported at the start of the pattern");
            default -> {
                int cp = p.codePointAt(i);
                i += Character.charCount(cp);
                return leaf.apply(CharClass.of(cp));
            }
        }
    }

    private CharClass bracket() {
        expect('[');
        boolean negate = peek('^');
        if (negate) i++;
        CharClass set = CharClass.NONE;
        boolean first = true;
        while (true) {
            if (i >= p.length()) throw error("unterminated character class");
            char c = p.charAt(i);
            if (c == ']' && !first) {
                i++;
                break;
            }
            if (c == '[') throw error("nested character classes / set operations are not supported");
            if (c == '&' && i + 1 < p.length() && p.charAt(i + 1) == '&')
                throw error("character class intersection '&&' is not supported");
            first = false;
            CharClass lo = classAtom();
            if (peek('-') && i + 1 < p.length() && p.charAt(i + 1) != ']') {
                i++;
                CharClass hi = classAtom();
                if (lo.rangeCount() != 1 || hi.rangeCount() != 1 || lo.lo(0) != lo.hi(0) || hi.lo(0) != hi.hi(0))
                    throw error("a range bound in a character class must be a single character");
                if (hi.lo(0) < lo.lo(0)) throw error("character class range is out of order");
                set = set.union(CharClass.range(lo.lo(0), hi.lo(0)));
            } else set = set.union(lo);
        }
        return negate ? set.negate() : set;
    }

    private CharClass classAtom() {
        if (p.charAt(i) == '\\') return escape(true);
        int cp = p.codePointAt(i);
        i += Character.charCount(cp);
        return CharClass.of(cp);
    }

    private CharClass escape(boolean inClass) {
        i++;
        if (i >= p.length()) throw error("pattern ends with a lone backslash");
        char c = p.charAt(i++);
        return switch (c) {
            case 'd' -> CharClass.DIGIT;
            case 'D' -> CharClass.DIGIT.negate();
            case 'w' -> CharClass.WORD;
            case 'W' -> CharClass.WORD.negate();
            case 's' -> CharClass.SPACE;
            case 'S' -> CharClass.SPACE.negate();
            case 'n' -> CharClass.of('\n');
            case 'r' -> CharClass.of('\r');
            case 't' -> CharClass.of('\t');
            case 'f' -> CharClass.of('\f');
            case 'e' -> CharClass.of(0x1B);
            case 'a' -> CharClass.of(7);
            case '0' -> CharClass.of(octal());
            case 'x' -> CharClass.of(hexEscape());
            case 'u' -> CharClass.of(hex(4));
            case 'b' -> throw error(inClass ? "'\\b' in a character class is not supported"
                    : "word boundary '\\b' is not supported");
            case 'B', 'A', 'z', 'Z', 'G' -> throw error("anchor '\\" + c + "' is not supported");
            case 'p', 'P' -> throw error("Unicode property classes '\\" + c + "{..}' are not supported");
            case 'Q' -> throw error("quoting '\\Q..\\E' is not supported");
            default -> {
                if (Character.isLetterOrDigit(c))
                    throw error("escape '\\" + c + "' is not supported" + (Character.isDigit(c) ? " (backreference)" : ""));
                yield CharClass.of(c);
            }
        };
    }

    private int octal() {
        int v = 0, n = 0;
        while (n < 3 && i < p.length() && p.charAt(i) >= '0' && p.charAt(i) <= '7' && v * 8 + (p.charAt(i) - '0') <= 0377) {
            v = v * 8 + (p.charAt(i++) - '0');
            n++;
        }
        if (n == 0) throw error("'\\0' must be followed by octal digits");
        return v;
    }

    private int hexEscape() {
        if (peek('{')) {
            int close = p.indexOf('}', i);
            if (close < 0) throw error("unterminated '\\x{'");
            try {
                int v = Integer.parseInt(p.substring(i + 1, close), 16);
                i = close + 1;
                if (v > CharClass.MAX) throw error("code point out of range");
                return v;
            } catch (NumberFormatException e) {
                throw error("bad hex escape");
            }
        }
        return hex(2);
    }

    private int hex(int digits) {
        if (i + digits > p.length()) throw error("truncated hex escape");
        try {
            int v = Integer.parseInt(p.substring(i, i + digits), 16);
            i += digits;
            return v;
        } catch (NumberFormatException e) {
            throw error("bad hex escape");
        }
    }

    private boolean peek(char c) {
        return i < p.length() && p.charAt(i) == c;
    }

    private void expect(char c) {
        if (!peek(c)) throw error(i >= p.length() ? "missing '" + c + "'" : "expected '" + c + "'");
        i++;
    }

    private CortadoException error(String what) {
        return new CortadoException("regex /" + p + "/: " + what + " (at offset " + i + ")");
    }
}
