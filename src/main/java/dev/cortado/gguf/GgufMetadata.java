package dev.cortado.gguf;

import dev.cortado.CortadoException;
import java.util.List;
import java.util.Map;

/** Typed, checked access to a GGUF file's metadata: a wrong or missing value is one line naming file and key. */
public record GgufMetadata(String file, Map<String, Object> map) {
    public static GgufMetadata of(GgufFile f) {
        return new GgufMetadata(f.path().toString(), f.metadata());
    }

    public boolean has(String key) {
        return map.containsKey(key);
    }

    private Object need(String key) {
        Object v = map.get(key);
        if (v == null) throw new CortadoException(file + ": GGUF metadata has no '" + key + "'");
        return v;
    }

    private CortadoException bad(String key, Object v, String expected) {
        String shown = GgufFile.shown(String.valueOf(v));
        return new CortadoException(file + ": GGUF metadata '" + key + "' is " + shown + ", expected " + expected);
    }

    public String string(String key) {
        Object v = need(key);
        if (!(v instanceof String s)) throw bad(key, v, "a string");
        return s;
    }

    public String string(String key, String def) {
        return has(key) ? string(key) : def;
    }

    public long integer(String key) {
        Object v = need(key);
        if (!(v instanceof Long l)) throw bad(key, v, "an integer");
        return l;
    }

    /** An integer in [min, max]. */
    public int integer(String key, long min, long max) {
        long v = integer(key);
        if (v < min || v > max) throw bad(key, v, "an integer in [" + min + ", " + max + "]");
        return (int) v;
    }

    public int integer(String key, long min, long max, int def) {
        return has(key) ? integer(key, min, max) : def;
    }

    public double number(String key, double def) {
        if (!has(key)) return def;
        Object v = need(key);
        if (v instanceof Float f) return f;
        if (v instanceof Double d) return d;
        if (v instanceof Long l) return l;
        throw bad(key, v, "a number");
    }

    public boolean bool(String key, boolean def) {
        if (!has(key)) return def;
        Object v = need(key);
        if (!(v instanceof Boolean b)) throw bad(key, v, "true or false");
        return b;
    }

    /** An array of strings. */
    public List<String> strings(String key) {
        List<?> l = list(key);
        for (Object o : l) if (!(o instanceof String)) throw bad(key, "[" + o + ", …]", "an array of strings");
        @SuppressWarnings("unchecked") List<String> s = (List<String>) l;
        return s;
    }

    public float[] floats(String key) {
        List<?> l = list(key);
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) {
            Object o = l.get(i);
            if (o instanceof Float f) out[i] = f;
            else if (o instanceof Double d) out[i] = d.floatValue();
            else throw bad(key, "[" + o + ", …]", "an array of numbers");
        }
        return out;
    }

    public int[] ints(String key) {
        List<?> l = list(key);
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Long v) || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw bad(key, "[" + l.get(i) + ", …]", "an array of integers");
            out[i] = (int) (long) v;
        }
        return out;
    }

    private List<?> list(String key) {
        Object v = need(key);
        if (!(v instanceof List<?> l)) throw bad(key, v, "an array");
        return l;
    }
}
