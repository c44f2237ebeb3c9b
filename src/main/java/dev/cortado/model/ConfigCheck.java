package dev.cortado.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.CortadoException;
import dev.cortado.backend.Backend.Activation;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one validator of config.json: every field a family reads goes through a typed, range-checked getter here,
 * and cross-field rules (heads divide the hidden size, kv heads divide heads, rope scaling, activations, layer
 * counts against the tensors) live here too. Each error is one line:
 * {@code <file>: num_attention_heads = 0, must be ≥ 1 and divide hidden_size 64}.
 */
public final class ConfigCheck {
    /** Upper bounds that keep size arithmetic in int range and allocations sane; real models stay far below. */
    public static final int MAX_DIM = 1 << 20, MAX_LAYERS = 4096, MAX_HEADS = 1 << 16, MAX_VOCAB = 1 << 24,
            MAX_POSITIONS = 1 << 21;

    private final ModelConfig config;

    public ConfigCheck(ModelConfig config) {
        this.config = config;
    }

    public ModelConfig config() {
        return config;
    }

    /** A one-line error about {@code key}: "{file}: key = value, must be rule". */
    public CortadoException bad(String key, Object value, String rule) {
        return new CortadoException(config.file() + ": " + key + " = " + show(value) + ", must be " + rule);
    }

    // ------------------------------------------------------------------ typed getters

    /** A required integer in [min, max]. */
    public int integer(String key, int min, int max) {
        JsonNode n = config.json().get(key);
        if (n == null || n.isNull()) throw new CortadoException(config.file() + ": missing field '" + key + "' (an integer in [" + min + ", " + max + "])");
        return integer(key, n, min, max);
    }

    /** An optional integer in [min, max] ({@code def} when absent or null). */
    public int integer(String key, int def, int min, int max) {
        JsonNode n = config.json().get(key);
        return n == null || n.isNull() ? def : integer(key, n, min, max);
    }

    /** The first present of several alternative names (n_embd / hidden_size), in [min, max]. */
    public int integerAny(int min, int max, String... keys) {
        for (String k : keys) if (config.json().hasNonNull(k)) return integer(k, config.json().get(k), min, max);
        throw new CortadoException(config.file() + ": missing field '" + keys[0] + "'"
                + (keys.length > 1 ? " (or " + String.join(", ", List.of(keys).subList(1, keys.length)) + ")" : ""));
    }

    /** A size (≥ 1, ≤ max). */
    public int size(String key, int max) {
        return integer(key, 1, max);
    }

    public int size(String key, int def, int max) {
        return integer(key, def, 1, max);
    }

    /** An optional finite number &gt; 0 (epsilons, rope_theta, scaling factors). */
    public double positive(String key, double def) {
        JsonNode n = config.json().get(key);
        return n == null || n.isNull() ? def : positive(key, n);
    }

    /** A finite number &gt; 0 held in {@code n} (e.g. a nested rope_scaling field named {@code key}). */
    public double positive(String key, JsonNode n) {
        if (!n.isNumber()) throw bad(key, n, "a number > 0");
        double v = n.doubleValue();
        if (!(v > 0) || Double.isInfinite(v)) throw bad(key, n, "a finite number > 0");
        return v;
    }

    public boolean bool(String key, boolean def) {
        JsonNode n = config.json().get(key);
        if (n == null || n.isNull()) return def;
        if (!n.isBoolean()) throw bad(key, n, "true or false");
        return n.booleanValue();
    }

    /** An optional string out of {@code allowed}; unknown values are errors, never ignored. */
    public String choice(String key, String def, Collection<String> allowed) {
        JsonNode n = config.json().get(key);
        if (n == null || n.isNull()) return def;
        if (!n.isTextual() || !allowed.contains(n.textValue())) throw bad(key, n, "one of " + String.join(", ", new TreeSet<>(allowed)));
        return n.textValue();
    }

    /** Hugging Face activation names Cortado runs. */
    public static final Map<String, Activation> ACTIVATIONS = Map.of("gelu", Activation.GELU_ERF, "gelu_new", Activation.GELU_TANH,
            "gelu_pytorch_tanh", Activation.GELU_TANH, "gelu_fast", Activation.GELU_TANH, "relu", Activation.RELU,
            "silu", Activation.SILU, "swish", Activation.SILU);

    /** T5's feed_forward_proj values: an activation, optionally "gated-". */
    public static final java.util.Set<String> FEED_FORWARD;
    static {
        java.util.Set<String> s = new java.util.HashSet<>();
        for (String a : ACTIVATIONS.keySet()) {
            s.add(a);
            s.add("gated-" + a);
        }
        FEED_FORWARD = java.util.Set.copyOf(s);
    }

    /** An activation name (hidden_act, activation_function); unknown ones are errors. */
    public Activation activation(String key, String def) {
        return ACTIVATIONS.get(choice(key, def, ACTIVATIONS.keySet()));
    }

    // ------------------------------------------------------------------ cross-field rules

    /** Attention heads: ≥ 1 and, unless an explicit head_dim is set, dividing {@code hiddenKey}'s value. */
    public int heads(String key, int hidden, String hiddenKey, boolean explicitHeadDim) {
        int h = integer(key, Integer.MIN_VALUE, Integer.MAX_VALUE);
        if (h < 1 || h > MAX_HEADS || (!explicitHeadDim && hidden % h != 0)) {
            throw bad(key, h, "≥ 1" + (explicitHeadDim ? " and ≤ " + MAX_HEADS : " and divide " + hiddenKey + " " + hidden));
        }
        return h;
    }

    /** Key/value heads (GQA): ≥ 1 and dividing the attention heads; {@code heads} when absent. */
    public int kvHeads(String key, int heads, String headsKey) {
        int kv = integer(key, heads, Integer.MIN_VALUE, Integer.MAX_VALUE);
        if (kv < 1 || heads % kv != 0) throw bad(key, kv, "≥ 1 and divide " + headsKey + " " + heads);
        return kv;
    }

    /** head_dim when present (even, ≥ 2), else hidden / heads; must be even for rotary positions. */
    public int headDim(String key, int hidden, int heads, boolean rotary) {
        int hd = integer(key, hidden / heads, Integer.MIN_VALUE, Integer.MAX_VALUE);
        if (hd < 1 || hd > MAX_DIM || (rotary && hd % 2 != 0)) {
            throw bad(key, hd, (rotary ? "an even number ≥ 2" : "≥ 1") + " and ≤ " + MAX_DIM);
        }
        if ((long) hd * heads > MAX_DIM) throw bad(key, hd, "≤ " + (MAX_DIM / heads) + " so that heads × head_dim fits");
        return hd;
    }

    /**
     * The number of layers {@code key} against the tensors: the distinct indices {@code i} of names matching
     * {@code prefix + i + "."} must be exactly 0..layers-1.
     */
    public void layersMatch(String key, int layers, Collection<String> tensorNames, String prefix, String source) {
        Pattern p = Pattern.compile(Pattern.quote(prefix) + "(\\d+)\\.");
        TreeSet<Integer> found = new TreeSet<>();
        for (String n : tensorNames) {
            Matcher m = p.matcher(n);
            if (m.lookingAt()) {
                try {
                    found.add(Integer.parseInt(m.group(1)));
                } catch (NumberFormatException e) {
                    found.add(Integer.MAX_VALUE);
                }
            }
        }
        if (found.size() != layers || (!found.isEmpty() && found.last() != layers - 1)) {
            throw bad(key, layers, "the number of layers in " + source + " (" + found.size() + " found under '" + prefix + "N.')");
        }
    }

    /**
     * The number of layers {@code key} against a traced ONNX graph with {@code perLayer} linears and two norms per
     * layer plus a final norm and the lm_head: a consistent graph of another depth names the config field.
     */
    public void tracedLayersMatch(String key, int layers, int linears, int norms, int perLayer, String source) {
        int traced = (linears - 1) / perLayer;
        if (linears >= 1 && (linears - 1) % perLayer == 0 && norms == 2 * traced + 1 && traced != layers) {
            throw bad(key, layers, "the number of layers in " + source + " (" + traced + " traced)");
        }
    }

    /** A dimension read from config against the tensor that holds it (vocab_size vs the embedding rows). */
    public void matches(String key, long value, long actual, String tensor) {
        if (value != actual) throw bad(key, value, "equal to " + actual + ", the size of tensor '" + tensor + "'");
    }

    // ------------------------------------------------------------------ helpers

    private int integer(String key, JsonNode n, int min, int max) {
        long v;
        if (n.isIntegralNumber() && n.canConvertToLong()) {
            v = n.longValue();
        } else if (n.isFloatingPointNumber() && n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) < 1e15) {
            v = (long) n.doubleValue();
        } else {
            throw bad(key, n, "an integer in [" + min + ", " + max + "]");
        }
        if (v < min || v > max) throw bad(key, n, min == 1 ? "≥ 1 and ≤ " + max : "in [" + min + ", " + max + "]");
        return (int) v;
    }

    private static String show(Object v) {
        String s;
        try {
            s = v instanceof JsonNode j ? j.toString() : String.valueOf(v);
        } catch (RuntimeException e) {
            s = "a " + ((JsonNode) v).getNodeType().name().toLowerCase();
        }
        s = s.replaceAll("[\\r\\n\\t]", " ");
        return s.length() > 60 ? s.substring(0, 60) + "…" : s;
    }
}
