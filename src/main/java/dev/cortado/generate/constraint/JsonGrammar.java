package dev.cortado.generate.constraint;

import java.util.ArrayList;
import java.util.List;

/**
 * Compact JSON text (no whitespace) as byte automata: strings whose characters come from a class (escaped as JSON
 * requires: {@code \" \\ \n \r \t \b \f} and {@code &#92;u00XX} for other control characters; nothing else escaped, so
 * every character is one unit of a JSON Schema length), numbers, integers within bounds, and any JSON value up to a
 * nesting depth. Numbers are written with bounded digits, so that generation always ends: an integer without a bound
 * has at most 18 digits (it fits a 64-bit long), a number at most 16 integer and 16 fraction digits and a 3-digit
 * exponent (about what a double holds). Every such text is valid JSON for the schema; larger ones are never produced.
 */
final class JsonGrammar {
    private JsonGrammar() {}

    /** Nesting depth of containers in values a schema leaves open ({@code {}}, {@code "type":"object"}). */
    static final int ANY_DEPTH = 4;

    private static final CharClass CONTROL = CharClass.range(0, 0x1F);
    private static final CharClass RAW_EXCLUDED = CONTROL.union(CharClass.of('"', '\\'));

    /** One character of {@code c} inside a JSON string, escaped as needed. */
    static Nfa stringChar(CharClass c) {
        List<Nfa> alts = new ArrayList<>();
        alts.add(Nfa.charClass(c.minus(RAW_EXCLUDED)));
        if (c.contains('"')) alts.add(Nfa.literal("\\\""));
        if (c.contains('\\')) alts.add(Nfa.literal("\\\\"));
        for (int cp = 0; cp < 0x20; cp++) {
            if (!c.contains(cp)) continue;
            alts.add(Nfa.literal(switch (cp) {
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                case '\t' -> "\\t";
                case '\b' -> "\\b";
                case '\f' -> "\\f";
                default -> String.format("\\u%04x", cp);
            }));
        }
        return Nfa.alt(alts);
    }

    /** A JSON string of {@code min}..{@code max} characters ({@code max < 0}: unbounded). */
    static Nfa string(int min, int max) {
        return quoted(Nfa.repeat(stringChar(CharClass.ANY), min, max));
    }

    static Nfa quoted(Nfa body) {
        return Nfa.concat(Nfa.literal("\""), body, Nfa.literal("\""));
    }

    /** Largest integer written for an open bound (18 digits). */
    static final long OPEN_BOUND = 999_999_999_999_999_999L;
    static final int NUMBER_INT_DIGITS = 16, NUMBER_FRACTION_DIGITS = 16, NUMBER_EXPONENT_DIGITS = 3;

    static Nfa number() {
        Nfa digit = Nfa.charClass(CharClass.DIGIT);
        Nfa frac = Nfa.optional(Nfa.concat(Nfa.literal("."), Nfa.repeat(digit, 1, NUMBER_FRACTION_DIGITS)));
        Nfa exp = Nfa.optional(Nfa.concat(Nfa.charClass(CharClass.of('e', 'E')),
                Nfa.optional(Nfa.charClass(CharClass.of('+', '-'))), Nfa.repeat(digit, 1, NUMBER_EXPONENT_DIGITS)));
        Nfa integer = Nfa.alt(Nfa.literal("0"), Nfa.concat(Nfa.charClass(CharClass.range('1', '9')),
                Nfa.repeat(digit, 0, NUMBER_INT_DIGITS - 1)));
        return Nfa.concat(Nfa.optional(Nfa.literal("-")), integer, frac, exp);
    }

    /** Integers in [lo, hi] written without leading zeros or "-0"; a null bound is +-{@link #OPEN_BOUND}. */
    static Nfa integer(Long lo, Long hi) {
        if (lo == null) lo = -OPEN_BOUND;
        if (hi == null) hi = OPEN_BOUND;
        List<Nfa> alts = new ArrayList<>();
        if (lo == null || lo < 0) { // negative part: -x with x in [max(1, -hi), -lo]
            long xlo = hi == null || hi >= 0 ? 1 : -hi;
            Long xhi = lo == null ? null : -lo;
            if (xhi == null || xlo <= xhi) alts.add(Nfa.concat(Nfa.literal("-"), natural(xlo, xhi)));
        }
        if (hi == null || hi >= 0) {
            long a = lo == null ? 0 : Math.max(0, lo);
            if (hi == null || a <= hi) alts.add(natural(a, hi));
        }
        return Nfa.alt(alts);
    }

    /** Decimal numbers in [a, b] (a >= 0; b null = unbounded) without leading zeros. */
    private static Nfa natural(long a, Long b) {
        String as = Long.toString(a);
        int from = as.length(), to = b == null ? from : Long.toString(b).length();
        List<Nfa> alts = new ArrayList<>();
        for (int d = from; d <= to; d++) {
            String lo = d == from ? as : "1" + "0".repeat(d - 1);
            String hi = b != null && d == to ? Long.toString(b) : "9".repeat(d);
            if (d == 1 && d != from) lo = "0";
            alts.add(sameLength(lo, hi));
        }
        if (b == null) alts.add(Nfa.concat(Nfa.charClass(CharClass.range('1', '9')),
                Nfa.repeat(Nfa.charClass(CharClass.DIGIT), from, -1)));
        return Nfa.alt(alts);
    }

    /** Digit strings of one length between lo and hi inclusive (lo <= hi). */
    private static Nfa sameLength(String lo, String hi) {
        int n = lo.length();
        if (n == 0) return Nfa.empty();
        if (lo.chars().allMatch(c -> c == '0') && hi.chars().allMatch(c -> c == '9'))
            return Nfa.repeat(Nfa.charClass(CharClass.DIGIT), n, n);
        char l = lo.charAt(0), h = hi.charAt(0);
        if (l == h) return Nfa.concat(Nfa.literal(String.valueOf(l)), sameLength(lo.substring(1), hi.substring(1)));
        List<Nfa> alts = new ArrayList<>();
        alts.add(Nfa.concat(Nfa.literal(String.valueOf(l)), sameLength(lo.substring(1), "9".repeat(n - 1))));
        if (h - l > 1) alts.add(Nfa.concat(Nfa.charClass(CharClass.range(l + 1, h - 1)),
                Nfa.repeat(Nfa.charClass(CharClass.DIGIT), n - 1, n - 1)));
        alts.add(Nfa.concat(Nfa.literal(String.valueOf(h)), sameLength("0".repeat(n - 1), hi.substring(1))));
        return Nfa.alt(alts);
    }

    /** Any JSON value whose containers nest at most {@code depth} deep. */
    static Nfa anyValue(int depth) {
        return Nfa.alt(scalar(), anyObject(depth), anyArray(depth));
    }

    static Nfa scalar() {
        return Nfa.alt(string(0, -1), number(), Nfa.literal("true"), Nfa.literal("false"), Nfa.literal("null"));
    }

    static Nfa anyObject(int depth) {
        if (depth <= 0) return Nfa.literal("{}");
        return object(anyValue(depth - 1));
    }

    static Nfa anyArray(int depth) {
        if (depth <= 0) return Nfa.literal("[]");
        return array(anyValue(depth - 1), 0, -1);
    }

    /** An object with any keys whose values match {@code value}. */
    static Nfa object(Nfa value) {
        Nfa member = Nfa.concat(string(0, -1), Nfa.literal(":"), value);
        return Nfa.concat(Nfa.literal("{"), Nfa.separated(member, Nfa.literal(","), 0, -1), Nfa.literal("}"));
    }

    static Nfa array(Nfa item, int min, int max) {
        return Nfa.concat(Nfa.literal("["), Nfa.separated(item, Nfa.literal(","), min, max), Nfa.literal("]"));
    }
}
