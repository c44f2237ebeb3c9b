package dev.cortado.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Typed, checked access to a JSON request body: each getter names the field and the expected type when the value
 * is wrong, and {@link #rejectUnknown(String)} names the first field nobody read (an unknown knob is an error, not
 * silently ignored).
 */
final class Body {
    private final JsonNode node;
    private final boolean strict;
    private final Set<String> read = new HashSet<>();

    /** A strict body refuses unknown fields ({@code batch}); a lenient one ignores them, as OpenAI's server does. */
    Body(JsonNode node, boolean strict) {
        if (node == null || !node.isObject())
            throw new ApiException("invalid_json", "the request body must be a JSON object, got "
                    + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        this.node = node;
        this.strict = strict;
    }

    boolean has(String key) {
        read.add(key);
        JsonNode n = node.get(key);
        return n != null && !n.isNull();
    }

    JsonNode get(String key) {
        read.add(key);
        JsonNode n = node.get(key);
        return n == null || n.isNull() ? null : n;
    }

    String string(String key) {
        JsonNode n = get(key);
        if (n == null) return null;
        if (!n.isTextual()) throw type(key, "a string", n);
        return n.textValue();
    }

    Integer integer(String key, int min, int max) {
        JsonNode n = get(key);
        if (n == null) return null;
        if (!n.isIntegralNumber() || !n.canConvertToInt()) throw type(key, "an integer", n);
        int v = n.intValue();
        if (v < min || v > max) throw range(key, v, min, max);
        return v;
    }

    Long longValue(String key) {
        JsonNode n = get(key);
        if (n == null) return null;
        if (!n.isIntegralNumber() || !n.canConvertToLong()) throw type(key, "an integer", n);
        return n.longValue();
    }

    Float number(String key, double min, double max) {
        JsonNode n = get(key);
        if (n == null) return null;
        if (!n.isNumber()) throw type(key, "a number", n);
        double v = n.doubleValue();
        if (!(v >= min && v <= max)) throw range(key, n.asText(), fmt(min), fmt(max));
        return (float) v;
    }

    Boolean bool(String key) {
        JsonNode n = get(key);
        if (n == null) return null;
        if (!n.isBoolean()) throw type(key, "true or false", n);
        return n.booleanValue();
    }

    /** A string or a list of strings (OpenAI's {@code stop}). */
    List<String> strings(String key) {
        JsonNode n = get(key);
        if (n == null) return null;
        if (n.isTextual()) return List.of(n.textValue());
        if (!n.isArray()) throw type(key, "a string or a list of strings", n);
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) throw type(key, "a string or a list of strings", n);
            out.add(e.textValue());
        }
        return out;
    }

    /** Refuses the first field that was never read: unknown or unsupported for {@code endpoint} (strict bodies only). */
    void rejectUnknown(String endpoint) {
        if (!strict) return;
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!read.contains(k))
                throw new ApiException("unknown_parameter", "unknown parameter '" + k + "' for " + endpoint
                        + "; remove it (see the OpenAI API reference for this endpoint's parameters)");
        }
    }

    static ApiException type(String key, String want, JsonNode got) {
        String shown = got.toString();
        if (shown.length() > 40) shown = shown.substring(0, 40) + "…";
        return ApiException.param("'" + key + "' must be " + want + ", got " + shown);
    }

    private static ApiException range(String key, Object v, Object min, Object max) {
        return ApiException.param("'" + key + "' = " + v + " is out of range; it must be between " + min + " and " + max);
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
