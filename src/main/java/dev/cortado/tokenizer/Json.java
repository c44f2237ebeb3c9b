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
        return new CortadoException("tokenizer.json " + path + ": " + what);
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
        return new CortadoException("tokenizer.json " + path + ".type: unknown " + kind + " type '" + type() + "'");
    }
}
