package dev.cortado.model;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.CortadoException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A Hugging Face config.json, read leniently with clear errors for missing required fields. */
public final class ModelConfig {
    private final JsonNode root;
    private final Path file;

    private ModelConfig(JsonNode root, Path file) {
        this.root = root;
        this.file = file;
    }

    /** config.json in the folder or, for an ONNX file in onnx/, its parent. */
    public static ModelConfig find(Path modelPath) {
        Path dir = Files.isDirectory(modelPath) ? modelPath : modelPath.toAbsolutePath().getParent();
        for (Path d = dir; d != null && d.startsWith(dir.getParent() == null ? dir : dir.getParent()); d = d.getParent()) {
            Path c = d.resolve("config.json");
            if (Files.isRegularFile(c)) return load(c);
        }
        throw new CortadoException("model folder " + dir + " has no config.json");
    }

    /** A config built in memory (e.g. from GGUF metadata); {@code file} names its source in messages. */
    public static ModelConfig of(JsonNode root, Path file) {
        if (root == null || !root.isObject()) throw new CortadoException(file + ": the configuration is not a JSON object");
        return new ModelConfig(root, file);
    }

    public static ModelConfig load(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (JacksonException e) {
            throw new CortadoException(jsonError(file, e), e);
        } catch (IOException e) {
            throw new CortadoException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new CortadoException(file + ": the top level is not a JSON object");
        return new ModelConfig(root, file);
    }

    /** One line for a JSON syntax error (see {@link dev.cortado.JsonErrors#syntax}). */
    public static String jsonError(Path file, JacksonException e) {
        return dev.cortado.JsonErrors.syntax(file, e);
    }

    public Path file() {
        return file;
    }

    public JsonNode json() {
        return root;
    }

    public String modelType() {
        return str("model_type", "");
    }

    public boolean has(String key) {
        return root.hasNonNull(key);
    }

    /*
     * Untyped getters for callers outside the families (CLI info, bench sizing): strict about JSON types, so a string
     * or an array where a number belongs is a one-line error instead of a silent 0. Families read their fields through
     * ConfigCheck, which also checks ranges.
     */

    public int integer(String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) throw new CortadoException(file + ": missing field '" + key + "'");
        return toInt(key, n);
    }

    public int integer(String key, int def) {
        JsonNode n = root.get(key);
        return n == null || n.isNull() ? def : toInt(key, n);
    }

    public double number(String key, double def) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return def;
        if (!n.isNumber()) throw new ConfigCheck(this).bad(key, n, "a number");
        return n.doubleValue();
    }

    public boolean bool(String key, boolean def) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return def;
        if (!n.isBoolean()) throw new ConfigCheck(this).bad(key, n, "true or false");
        return n.booleanValue();
    }

    public String str(String key, String def) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return def;
        if (!n.isTextual()) throw new ConfigCheck(this).bad(key, n, "a string");
        return n.textValue();
    }

    /** First of several alternative names (e.g. n_embd / hidden_size). */
    public int integerAny(String... keys) {
        for (String k : keys) if (root.hasNonNull(k)) return toInt(k, root.get(k));
        throw new CortadoException(file + ": missing field '" + keys[0] + "'");
    }

    private int toInt(String key, JsonNode n) {
        if (n.isIntegralNumber() && n.canConvertToInt()) return n.intValue();
        if (n.isFloatingPointNumber() && n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) <= Integer.MAX_VALUE) {
            return (int) n.doubleValue();
        }
        throw new ConfigCheck(this).bad(key, n, "an integer");
    }
}
