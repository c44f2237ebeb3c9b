package dev.cortado.fuzz;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A seeded, reproducible mutation library for fuzzing model, config and tokenizer files.
 *
 * <p>Stable API (other fuzz suites depend on it):
 * <ul>
 *   <li>{@link #Mutations(long)}: one instance per case, seeded (e.g. {@code seed * 1_000_003 + caseIndex});
 *       the same seed always gives the same mutants.</li>
 *   <li>{@link #bytes(byte[])}: one random byte-level mutation; {@link #bytes(byte[], int[])} prefers the given
 *       field boundaries (offsets of headers, lengths, tags) for truncations and integer overwrites.</li>
 *   <li>{@link #json(String)}: one random JSON-tree mutation of a JSON text (falls back to a text mutation when
 *       the input is not JSON); {@link #json(JsonNode)} the same on a tree (the argument is not modified).</li>
 *   <li>{@link #lastDescription()}: what the last mutation did, for failure messages.</li>
 *   <li>{@link #toJson(JsonNode)}: writes a mutant tree back to text, however deep.</li>
 * </ul>
 * Each call applies exactly one mutation; call it several times to stack mutations.
 */
public final class Mutations {
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        JSON.getFactory().setStreamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(100_000).build());
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(100_000).build());
    }
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final SplittableRandom rnd;
    private String last = "";

    public Mutations(long seed) {
        this.rnd = new SplittableRandom(seed);
    }

    /** The random source, for callers that pick fixtures or mutation counts from the same seed. */
    public SplittableRandom random() {
        return rnd;
    }

    /** A human-readable description of the last mutation. */
    public String lastDescription() {
        return last;
    }

    // ------------------------------------------------------------------------------------------------ bytes

    /** One byte-level mutation of {@code in} (not modified); may return an empty array. */
    public byte[] bytes(byte[] in) {
        return bytes(in, new int[0]);
    }

    /**
     * One byte-level mutation of {@code in} (not modified). {@code boundaries}: offsets of fields in the file (e.g.
     * the end of a header, the start of a length); half of the positional mutations pick one of them.
     */
    public byte[] bytes(byte[] in, int[] boundaries) {
        int n = in.length;
        int kind = rnd.nextInt(10);
        switch (kind) {
            case 0 -> {
                int at = position(n + 1, boundaries);
                last = "truncate at " + at + " of " + n;
                return Arrays.copyOf(in, at);
            }
            case 1 -> {
                if (n == 0) break;
                byte[] out = in.clone();
                int flips = 1 + rnd.nextInt(8);
                StringBuilder sb = new StringBuilder("bit flips at");
                for (int i = 0; i < flips; i++) {
                    int at = position(n, boundaries);
                    int bit = rnd.nextInt(8);
                    out[at] ^= (byte) (1 << bit);
                    sb.append(' ').append(at).append('.').append(bit);
                }
                last = sb.toString();
                return out;
            }
            case 2 -> {
                if (n == 0) break;
                byte[] out = in.clone();
                byte v = new byte[] {0x00, (byte) 0xFF, 0x7F, (byte) 0x80}[rnd.nextInt(4)];
                int at = position(n, boundaries);
                int len = Math.min(n - at, 1 + rnd.nextInt(16));
                Arrays.fill(out, at, at + len, v);
                last = "overwrite " + len + " bytes at " + at + " with 0x" + Integer.toHexString(v & 0xFF);
                return out;
            }
            case 3 -> {
                int at = position(n + 1, boundaries);
                int len = 1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 256);
                byte[] ins = new byte[len];
                for (int i = 0; i < len; i++) ins[i] = (byte) rnd.nextInt(256);
                last = "insert " + len + " random bytes at " + at;
                return splice(in, at, 0, ins);
            }
            case 4 -> {
                if (n == 0) break;
                int at = position(n, boundaries);
                int len = Math.min(n - at, 1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 1024));
                last = "delete " + len + " bytes at " + at;
                return splice(in, at, len, new byte[0]);
            }
            case 5, 6 -> {
                if (n < 8) break;
                int at = Math.min(position(n, boundaries), n - 8);
                long v = hugeLong();
                byte[] out = in.clone();
                boolean eight = rnd.nextBoolean();
                for (int i = 0; i < (eight ? 8 : 4); i++) out[at + i] = (byte) (v >>> (8 * i));
                last = "write little-endian int" + (eight ? 64 : 32) + " " + (eight ? v : (int) v) + " at " + at;
                return out;
            }
            case 7 -> {
                int at = position(n + 1, boundaries);
                byte[] varint = varint(hugeLong());
                boolean replace = rnd.nextBoolean() && at < n;
                last = (replace ? "overwrite" : "insert") + " varint of " + varint.length + " bytes at " + at;
                return splice(in, at, replace ? Math.min(varint.length, n - at) : 0, varint);
            }
            case 8 -> {
                if (n < 2) break;
                int a = rnd.nextInt(n), len = Math.min(n - a, 1 + rnd.nextInt(64));
                int to = rnd.nextInt(n + 1);
                last = "duplicate " + len + " bytes from " + a + " to " + to;
                return splice(in, to, 0, Arrays.copyOfRange(in, a, a + len));
            }
            default -> {
                if (n == 0) break;
                byte[] out = in.clone();
                int at = position(n, boundaries);
                out[at] = (byte) rnd.nextInt(256);
                last = "random byte at " + at;
                return out;
            }
        }
        last = "append 0xFF";
        return splice(in, n, 0, new byte[] {(byte) 0xFF});
    }

    /** A protobuf-style varint of {@code v} (10 bytes for negatives), or an over-long 11-byte varint. */
    public byte[] varint(long v) {
        if (rnd.nextInt(8) == 0) {
            byte[] b = new byte[11];
            Arrays.fill(b, (byte) 0xFF);
            b[10] = 0x01;
            return b;
        }
        byte[] buf = new byte[10];
        int i = 0;
        while ((v & ~0x7FL) != 0) {
            buf[i++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[i++] = (byte) v;
        return Arrays.copyOf(buf, i);
    }

    /** Values that break size arithmetic: 0, ±1, int and long extremes, powers of two around them. */
    public long hugeLong() {
        long[] vals = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE + 1L, 0xFFFFFFFFL,
                Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40, 1L << 62, -(1L << 31), 255, 65535};
        return rnd.nextInt(4) == 0 ? rnd.nextLong() : vals[rnd.nextInt(vals.length)];
    }

    private int position(int bound, int[] boundaries) {
        if (bound <= 0) return 0;
        if (boundaries.length > 0 && rnd.nextBoolean()) {
            int b = boundaries[rnd.nextInt(boundaries.length)] + rnd.nextInt(-2, 3);
            return Math.floorMod(b, bound);
        }
        return rnd.nextInt(bound);
    }

    private static byte[] splice(byte[] in, int at, int remove, byte[] insert) {
        byte[] out = new byte[in.length - remove + insert.length];
        System.arraycopy(in, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(in, at + remove, out, at + insert.length, in.length - at - remove);
        return out;
    }

    // ------------------------------------------------------------------------------------------------ JSON

    /** One mutation of a JSON text; a text-level mutation (truncation, duplicate key) when the tree is not used. */
    public String json(String text) {
        JsonNode tree;
        try {
            tree = JSON.readTree(text);
        } catch (IOException e) {
            tree = null;
        }
        if (tree == null || rnd.nextInt(10) == 0) return text(text);
        if (rnd.nextInt(12) == 0) return duplicateKey(tree, text);
        return write(json(tree));
    }

    /** One mutation of a JSON tree; {@code in} is not modified. */
    public JsonNode json(JsonNode in) {
        JsonNode root = in.deepCopy();
        List<Slot> slots = new ArrayList<>();
        collect(root, null, null, -1, "$", slots, 0);
        Slot s = slots.get(rnd.nextInt(slots.size()));
        int kind = rnd.nextInt(10);
        if (kind == 0 && s.parent instanceof ObjectNode o) {
            o.remove(s.key);
            last = "delete " + s.path;
            return root;
        }
        if (kind == 1 && s.parent instanceof ArrayNode a) {
            a.remove(s.index);
            last = "delete " + s.path;
            return root;
        }
        if (kind == 2 && s.parent instanceof ArrayNode a) {
            a.insert(s.index, s.node.deepCopy());
            last = "repeat " + s.path;
            return root;
        }
        JsonNode v = replacement(s.node);
        if (s.parent == null) {
            last = "replace root by " + abbreviate(v);
            return v;
        }
        if (s.parent instanceof ObjectNode o) o.set(s.key, v);
        else ((ArrayNode) s.parent).set(s.index, v);
        last = "replace " + s.path + " by " + abbreviate(v);
        return root;
    }

    /** A hostile value: boundary numbers, wrong types, empty containers, deep nesting, a nearby value. */
    public JsonNode replacement(JsonNode old) {
        return switch (rnd.nextInt(18)) {
            case 0 -> F.numberNode(0);
            case 1 -> F.numberNode(-1);
            case 2 -> F.numberNode(Integer.MAX_VALUE);
            case 3 -> F.numberNode(Long.MAX_VALUE);
            case 4 -> F.numberNode(1e308);
            case 5 -> F.textNode(rnd.nextBoolean() ? "NaN" : "-Infinity");
            case 6 -> F.textNode("");
            case 7 -> F.nullNode();
            case 8 -> F.arrayNode();
            case 9 -> F.objectNode();
            case 10 -> F.booleanNode(rnd.nextBoolean());
            case 11 -> old.isNumber() ? F.textNode(old.asText()) : F.numberNode(rnd.nextInt(-3, 100));
            case 12 -> nested(rnd.nextBoolean() ? 100 : 2000);
            case 13 -> F.numberNode(old.isNumber() ? old.asDouble() * (rnd.nextBoolean() ? -1 : 1000) + 0.5 : 0.5);
            case 14 -> F.numberNode(Integer.MIN_VALUE);
            case 15 -> F.numberNode(old.isIntegralNumber() ? old.asLong() + rnd.nextInt(-2, 3) : 1);
            case 16 -> F.textNode("x".repeat(rnd.nextInt(1, 5000)));
            default -> F.numberNode(1e-30);
        };
    }

    /** A text mutation of a JSON text: truncation, a deleted or repeated character, or a deeply nested prefix. */
    public String text(String text) {
        int n = text.length();
        switch (rnd.nextInt(4)) {
            case 0 -> {
                int at = rnd.nextInt(n + 1);
                last = "truncate text at " + at + " of " + n;
                return text.substring(0, at);
            }
            case 1 -> {
                if (n == 0) break;
                int at = rnd.nextInt(n);
                last = "delete char " + at;
                return text.substring(0, at) + text.substring(at + 1);
            }
            case 2 -> {
                int at = rnd.nextInt(n + 1);
                String specials = "{}[]\",:\\\u0000\uFFFD";
                char c = specials.charAt(rnd.nextInt(specials.length()));
                last = "insert char " + (int) c + " at " + at;
                return text.substring(0, at) + c + text.substring(at);
            }
            default -> { }
        }
        last = "deeply nested text";
        return "[".repeat(100_000) + text;
    }

    private String duplicateKey(JsonNode tree, String text) {
        if (tree instanceof ObjectNode o && !o.isEmpty()) {
            List<String> keys = new ArrayList<>();
            o.fieldNames().forEachRemaining(keys::add);
            String k = keys.get(rnd.nextInt(keys.size()));
            String dup = write(F.objectNode().set(k, replacement(o.get(k))));
            last = "duplicate key '" + k + "'";
            return "{" + dup.substring(1, dup.length() - 1) + "," + write(o).substring(1);
        }
        return text(text);
    }

    private JsonNode nested(int depth) {
        JsonNode n = F.numberNode(1);
        for (int i = 0; i < depth; i++) n = rnd.nextBoolean() ? F.arrayNode().add(n) : F.objectNode().set("a", n);
        return n;
    }

    private record Slot(JsonNode node, JsonNode parent, String key, int index, String path) {}

    private static void collect(JsonNode n, JsonNode parent, String key, int index, String path, List<Slot> out, int depth) {
        out.add(new Slot(n, parent, key, index, path));
        if (depth > 64 || out.size() > 200_000) return;
        if (n.isObject()) {
            for (Map.Entry<String, JsonNode> e : n.properties()) {
                collect(e.getValue(), n, e.getKey(), -1, path + "." + e.getKey(), out, depth + 1);
            }
        } else if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) collect(n.get(i), n, null, i, path + "[" + i + "]", out, depth + 1);
        }
    }

    /** Serializes a (possibly deeply nested) mutant tree; Jackson's default writer refuses depth &gt; 1000. */
    public static String toJson(JsonNode n) {
        return write(n);
    }

    private static String write(JsonNode n) {
        try {
            return JSON.writeValueAsString(n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String abbreviate(JsonNode v) {
        String s = write(v);
        return s.length() > 40 ? s.substring(0, 40) + "…(" + s.length() + " chars)" : s;
    }

    /** UTF-8 bytes of a mutated JSON text, for writing mutants to files. */
    public byte[] jsonBytes(String text) {
        return json(text).getBytes(StandardCharsets.UTF_8);
    }
}
