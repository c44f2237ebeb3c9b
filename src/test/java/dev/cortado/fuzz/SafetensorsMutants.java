package dev.cortado.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Safetensors-aware mutants built on {@link Mutations}: the header JSON mutated as a tree, or one tensor entry given
 * a plausible but wrong dtype, shape or byte range (same byte count, so only semantic checks can catch it).
 */
final class SafetensorsMutants {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String[] DTYPES = {"F32", "F16", "BF16", "F64", "I8", "U8", "I32", "I64", "BOOL", "F8_E4M3", "f32"};

    private SafetensorsMutants() {}

    static long headerLength(byte[] file) {
        return ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The header JSON mutated by {@link Mutations#json(JsonNode)}, the data kept. */
    static byte[] header(byte[] file, Mutations m) {
        return rebuild(file, m.json(headerTree(file)));
    }

    /** One tensor relabelled: another dtype, a reshaped/flattened/transposed shape, or a shifted byte range. */
    record Mutant(byte[] bytes, String what) {}

    static Mutant tensor(byte[] file, Mutations m) {
        ObjectNode root = (ObjectNode) headerTree(file);
        List<String> names = new ArrayList<>();
        root.fieldNames().forEachRemaining(n -> { if (!n.equals("__metadata__")) names.add(n); });
        String name = names.get(m.random().nextInt(names.size()));
        ObjectNode t = (ObjectNode) root.get(name);
        ArrayNode shape = (ArrayNode) t.get("shape");
        ArrayNode off = (ArrayNode) t.get("data_offsets");
        long numel = 1;
        for (JsonNode d : shape) numel *= d.asLong();
        String what;
        switch (m.random().nextInt(6)) {
            case 0 -> {
                String dt = DTYPES[m.random().nextInt(DTYPES.length)];
                t.put("dtype", dt);
                what = "dtype of '" + name + "' → " + dt;
            }
            case 1 -> {
                t.set("shape", JSON.createArrayNode().add(numel));
                what = "shape of '" + name + "' flattened to [" + numel + "]";
            }
            case 2 -> {
                ArrayNode r = JSON.createArrayNode();
                for (int i = shape.size() - 1; i >= 0; i--) r.add(shape.get(i));
                t.set("shape", r);
                what = "shape of '" + name + "' reversed to " + r;
            }
            case 3 -> {
                t.put("dtype", "BF16");
                ArrayNode s2 = JSON.createArrayNode();
                for (JsonNode d : shape) s2.add(d);
                if (s2.isEmpty()) s2.add(2);
                else s2.set(s2.size() - 1, s2.get(s2.size() - 1).asLong() * 2);
                t.set("shape", s2);
                what = "'" + name + "' read as BF16 " + s2;
            }
            case 4 -> {
                long shift = new long[] {-4, 4, -1, 1 << 20}[m.random().nextInt(4)];
                off.set(0, off.get(0).asLong() + shift);
                off.set(1, off.get(1).asLong() + shift);
                what = "data_offsets of '" + name + "' shifted by " + shift;
            }
            default -> {
                String other = names.get(m.random().nextInt(names.size()));
                t.set("data_offsets", root.get(other).get("data_offsets").deepCopy());
                t.set("shape", root.get(other).get("shape").deepCopy());
                t.set("dtype", root.get(other).get("dtype").deepCopy());
                what = "'" + name + "' aliased to the bytes of '" + other + "'";
            }
        }
        return new Mutant(rebuild(file, root), what);
    }

    static JsonNode headerTree(byte[] file) {
        int len = (int) headerLength(file);
        try {
            return JSON.readTree(new String(file, 8, len, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] rebuild(byte[] file, JsonNode header) {
        long old = headerLength(file);
        byte[] json = Mutations.toJson(header).getBytes(StandardCharsets.UTF_8);
        byte[] len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array();
        return concat(concat(len, json), Arrays.copyOfRange(file, (int) (8 + old), file.length));
    }
}
