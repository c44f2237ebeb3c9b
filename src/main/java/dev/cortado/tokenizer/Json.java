package dev.cortado.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.CortadoException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A JSON node with its path ({@code $.model.vocab}) so that every loading error names where it happened.
 */
public record Json(JsonNode node, String path) {

    public static CortadoException error(String path, String what) {
        return new CortadoException(oneLine("tokenizer.json " + path + ": " + what));
    }

    /**
     * {@code s} on one line for an error message: control characters escaped (a newline as backslash-n), at most
     * 400 characters (the rest elided), so that text from a file or a user cannot break the one-line error rule.
     */
    public static String oneLine(String s) {
        StringBuilder sb = null;
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            boolean bad = c < 0x20 || c == 0x7F || c == 0x85 || c == 0x2028 || c == 0x2029;
            if (bad && sb == null) sb = new StringBuilder(n + 16).append(s, 0, i);
            if (sb == null) continue;
            if (!bad) sb.append(c);
            else if (c == '\n') sb.append("\\n");
            else if (c == '\r') sb.append("\\r");
            else if (c == '\t') sb.append("\\t");
            else sb.append(String.format("\\u%04x", (int) c));
        }
        String out = sb == null ? s : sb.toString();
        return out.length() <= 400 ? out : out.substring(0, 300) + "…(" + (out.length() - 360) + " more)…"
                + out.substring(out.length() - 60);
    }

    /** {@code 'text'} for a message, shortened to 60 characters. */
    public static String quote(String text) {
        return "'" + (text.length() <= 60 ? text : text.substring(0, 57) + "...") + "'";
    }

    public CortadoException error(String what) {
        return error(path, what);
    }

    public boolean has(String key) {
        JsonNode n = node.get(key);
        return n != null && !n.isNull();
    }

    /** The child, or null when absent or JSON null. */
    public Json opt(String key) {
        JsonNode n = node.get(key);
        return n == null || n.isNull() ? null : new Json(n, path + "." + key);
    }

    public Json get(String key) {
        Json j = opt(key);
        if (j == null) throw error("missing field '" + key + "'");
        return j;
    }

    public Json obj(String key) {
        Json j = get(key);
        if (!j.node.isObject()) throw j.error("expected an object, got " + j.node.getNodeType());
        return j;
    }

    public Json arr(String key) {
        Json j = get(key);
        if (!j.node.isArray()) throw j.error("expected an array, got " + j.node.getNodeType());
        return j;
    }

    public String str(String key) {
        Json j = get(key);
        if (!j.node.isTextual()) throw j.error("expected a string, got " + j.node.getNodeType());
        return j.node.textValue();
    }

    public String str(String key, String dflt) {
        return has(key) ? str(key) : dflt;
    }

    public boolean bool(String key, boolean dflt) {
        Json j = opt(key);
        if (j == null) return dflt;
        if (!j.node.isBoolean()) throw j.error("expected a boolean, got " + j.node.getNodeType());
        return j.node.booleanValue();
    }

    public int integer(String key) {
        Json j = get(key);
        if (!j.node.canConvertToInt() || !j.node.isIntegralNumber())
            throw j.error("expected an integer, got " + j.node);
        return j.node.intValue();
    }

    public int integer(String key, int dflt) {
        return has(key) ? integer(key) : dflt;
    }

    /** An integer field in {@code [min, max]}; {@code dflt} when absent. */
    public int integer(String key, int dflt, int min, int max) {
        if (!has(key)) return dflt;
        Json j = get(key);
        String allowed = max == Integer.MAX_VALUE ? "an integer >= " + min : "an integer in " + min + ".." + max;
        if (!j.node.isIntegralNumber() || !j.node.canConvertToInt() || j.node.intValue() < min
                || j.node.intValue() > max) throw j.error(j.node + " is not allowed: expected " + allowed);
        return j.node.intValue();
    }

    /** A string field that must be one of {@code allowed}; {@code dflt} when absent. */
    public String oneOf(String key, String dflt, String... allowed) {
        String v = str(key, dflt);
        for (String a : allowed) if (a.equals(v)) return v;
        throw get(key).error("'" + v + "' is not allowed: expected one of " + String.join(", ", allowed));
    }

    /** A string field holding exactly one character (code point); {@code dflt} when absent. */
    public int character(String key, String dflt) {
        String v = str(key, dflt);
        if (v.isEmpty() || v.codePointCount(0, v.length()) != 1)
            throw get(key).error("'" + v + "' is not allowed: expected exactly one character");
        return v.codePointAt(0);
    }

    public double number(String key, double dflt) {
        Json j = opt(key);
        if (j == null) return dflt;
        if (!j.node.isNumber()) throw j.error("expected a number, got " + j.node.getNodeType());
        return j.node.doubleValue();
    }

    public String text() {
        if (!node.isTextual()) throw error("expected a string, got " + node.getNodeType());
        return node.textValue();
    }

    public int asInt() {
        if (!node.isIntegralNumber() || !node.canConvertToInt()) throw error("expected an integer, got " + node);
        return node.intValue();
    }

    public List<Json> elements() {
        if (!node.isArray()) throw error("expected an array, got " + node.getNodeType());
        List<Json> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) out.add(new Json(node.get(i), path + "[" + i + "]"));
        return out;
    }

    public List<Map.Entry<String, Json>> fields() {
        if (!node.isObject()) throw error("expected an object, got " + node.getNodeType());
        List<Map.Entry<String, Json>> out = new ArrayList<>(node.size());
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.add(Map.entry(e.getKey(), new Json(e.getValue(), path + "." + e.getKey())));
        }
        return out;
    }

    /** The {@code type} field, or null. */
    public String type() {
        return has("type") ? str("type") : null;
    }

    public CortadoException unknownType(String kind) {
        return error(path + ".type", "unknown " + kind + " type " + quote(type()));
    }
}
