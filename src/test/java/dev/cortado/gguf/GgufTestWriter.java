package dev.cortado.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Writes small GGUF files for the bad-input tests (re-serializing a fixture with edits, or from scratch). */
public final class GgufTestWriter {
    private GgufTestWriter() {}

    /** One tensor: ggml type id, dims in ggml order, bytes, and the offset the header declares (null: where its data is). */
    public record T(String name, int type, long[] ne, byte[] data, Long offset) {}

    public static byte[] write(int version, Map<String, Object> meta, List<T> tensors) {
        Out o = new Out();
        o.i32(GgufFile.MAGIC);
        o.i32(version);
        o.i64(tensors.size());
        o.i64(meta.size());
        for (Map.Entry<String, Object> e : meta.entrySet()) {
            o.str(e.getKey());
            o.value(e.getValue(), true);
        }
        long align = meta.get("general.alignment") instanceof Long a ? a : 32;
        long next = 0;
        List<Long> offsets = new ArrayList<>();
        for (T t : tensors) {
            o.str(t.name);
            o.i32(t.ne.length);
            for (long d : t.ne) o.i64(d);
            o.i32(t.type);
            offsets.add(next);
            o.i64(t.offset != null ? t.offset : next);
            next = GgufFile.align(next + t.data.length, align);
        }
        while (o.size() % align != 0) o.b.write(0);
        long start = o.size();
        for (int i = 0; i < tensors.size(); i++) {
            while (o.size() < start + offsets.get(i)) o.b.write(0);
            o.b.writeBytes(tensors.get(i).data);
        }
        return o.b.toByteArray();
    }

    /** The fixture at {@code f} written again, after {@code edit} changes its metadata and tensor list. */
    public static byte[] rewrite(GgufFile f, Consumer<Map<String, Object>> editMeta, Consumer<List<T>> editTensors) {
        Map<String, Object> meta = new LinkedHashMap<>(f.metadata());
        editMeta.accept(meta);
        List<T> ts = new ArrayList<>();
        for (GgufFile.TensorInfo t : f.tensors().values()) {
            ts.add(new T(t.name(), t.type().id, t.ne(), t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), null));
        }
        editTensors.accept(ts);
        return write(f.version(), meta, ts);
    }

    private static final class Out {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();

        long size() { return b.size(); }

        void i32(int v) { b.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array()); }

        void i64(long v) { b.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()); }

        void str(String s) {
            byte[] x = s.getBytes(StandardCharsets.UTF_8);
            i64(x.length);
            b.writeBytes(x);
        }

        int type(Object v) {
            return switch (v) {
                case Long l -> 11;
                case Integer i -> 5;
                case Float x -> 6;
                case Double d -> 12;
                case Boolean x -> 7;
                case String s -> 8;
                case List<?> l -> 9;
                default -> throw new IllegalArgumentException(v.getClass().toString());
            };
        }

        void value(Object v, boolean typed) {
            if (typed) i32(type(v));
            switch (v) {
                case Long l -> i64(l);
                case Integer i -> i32(i);
                case Float x -> i32(Float.floatToRawIntBits(x));
                case Double d -> i64(Double.doubleToRawLongBits(d));
                case Boolean x -> b.write(x ? 1 : 0);
                case String s -> str(s);
                case List<?> l -> {
                    i32(l.isEmpty() ? 5 : type(l.getFirst()));
                    i64(l.size());
                    for (Object e : l) value(e, false);
                }
                default -> throw new IllegalArgumentException(v.getClass().toString());
            }
        }
    }
}
