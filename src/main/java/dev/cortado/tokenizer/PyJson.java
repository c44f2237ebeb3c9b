package dev.cortado.tokenizer;

import java.math.BigDecimal;
import java.util.Map;

/**
 * Python's {@code json.dumps} as transformers' chat-template {@code tojson} filter calls it ({@code ensure_ascii=False}
 * unless asked, {@code indent}, {@code separators}, {@code sort_keys}): default separators {@code ", "} and
 * {@code ": "} ({@code ","} between items when indenting), floats as Python's {@code repr}. Chat templates put tool
 * definitions into the prompt with it, so the spacing must be the one the model was trained on.
 */
final class PyJson {
    private PyJson() {}

    static String dumps(Object v, Integer indent, String itemSep, String keySep, boolean sortKeys, boolean ensureAscii) {
        if (itemSep == null) itemSep = indent == null ? ", " : ",";
        if (keySep == null) keySep = ": ";
        StringBuilder sb = new StringBuilder();
        new PyJson.Writer(sb, indent, itemSep, keySep, sortKeys, ensureAscii).value(v, 0);
        return sb.toString();
    }

    private record Writer(StringBuilder sb, Integer indent, String itemSep, String keySep, boolean sortKeys,
                          boolean ensureAscii) {
        void value(Object v, int level) {
            if (sb.length() > ChatTemplate.MAX_OUTPUT_CHARS)
                throw new ChatTemplate.TemplateException("tojson: the output is over " + ChatTemplate.MAX_OUTPUT_CHARS + " characters");
            switch (v) {
                case null -> sb.append("null");
                case Boolean b -> sb.append(b ? "true" : "false");
                case Double d -> sb.append(floatRepr(d));
                case Float f -> sb.append(floatRepr(f.doubleValue()));
                case BigDecimal d -> sb.append(floatRepr(d.doubleValue()));
                case Number n -> sb.append(n);
                case Map<?, ?> m -> {
                    if (m.isEmpty()) {
                        sb.append("{}");
                        return;
                    }
                    var entries = new java.util.ArrayList<Map.Entry<?, ?>>(m.entrySet());
                    if (sortKeys) entries.sort((a, b) -> String.valueOf(a.getKey()).compareTo(String.valueOf(b.getKey())));
                    sb.append('{');
                    for (int i = 0; i < entries.size(); i++) {
                        separator(i, level + 1);
                        string(String.valueOf(entries.get(i).getKey()));
                        sb.append(keySep);
                        value(entries.get(i).getValue(), level + 1);
                    }
                    close(level, '}');
                }
                case Iterable<?> it -> {
                    int i = 0;
                    sb.append('[');
                    for (Object x : it) {
                        separator(i++, level + 1);
                        value(x, level + 1);
                    }
                    if (i == 0) sb.append(']');
                    else close(level, ']');
                }
                default -> string(String.valueOf(v));
            }
        }

        private void separator(int i, int level) {
            if (i > 0) sb.append(itemSep);
            if (indent != null) sb.append('\n').append(" ".repeat(indent * level));
        }

        private void close(int level, char c) {
            if (indent != null) sb.append('\n').append(" ".repeat(indent * level));
            sb.append(c);
        }

        private void string(String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    case '\b' -> sb.append("\\b");
                    case '\f' -> sb.append("\\f");
                    default -> {
                        if (c < 0x20 || (ensureAscii && c > 0x7e)) sb.append(String.format("\\u%04x", (int) c));
                        else sb.append(c);
                    }
                }
            }
            sb.append('"');
        }
    }

    /** Python's {@code repr(float)}: shortest digits, fixed for 1e-4 ≤ |x| < 1e16, else {@code 1e-05} style. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal b = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = b.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - b.scale(); // d = digits[0].digits[1..] x 10^exp
        String sign = d < 0 ? "-" : "";
        if (exp >= -4 && exp < 16) {
            String plain = b.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }
}
