package dev.cortado.bench;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal ONNX (protobuf wire format) writer: enough of ModelProto/GraphProto/NodeProto/TensorProto/ValueInfoProto
 * to build decoder graphs in Java, with initializers inline (raw_data) or as external data in another file.
 */
public final class OnnxWriter {
    public static final int FLOAT = 1, UINT8 = 2, INT64 = 7, BOOL = 9;

    private final List<byte[]> nodes = new ArrayList<>(), inits = new ArrayList<>(), inputs = new ArrayList<>(),
            outputs = new ArrayList<>();
    private int counter;
    private boolean microsoft;

    /** Protobuf message under construction. */
    static final class Msg {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        void varint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        Msg tag(int field, int wire) { varint(((long) field << 3) | wire); return this; }
        Msg i64(int field, long v) { tag(field, 0); varint(v); return this; }
        Msg bytes(int field, byte[] b) { tag(field, 2); varint(b.length); out.writeBytes(b); return this; }
        Msg str(int field, String s) { return bytes(field, s.getBytes(StandardCharsets.UTF_8)); }
        Msg msg(int field, Msg m) { return bytes(field, m.out.toByteArray()); }
        Msg f32(int field, float f) {
            tag(field, 5);
            int b = Float.floatToRawIntBits(f);
            for (int i = 0; i < 4; i++) out.write(b >>> (8 * i));
            return this;
        }
        byte[] bytes() { return out.toByteArray(); }
    }

    /** A node attribute: int, float, ints or string. */
    public record Attr(String name, Object value) {}

    public static Attr a(String name, Object value) { return new Attr(name, value); }

    /** Adds a node with a generated output name; returns the output. */
    public String node(String op, String tag, String[] ins, Attr... attrs) {
        String out = tag + "_" + (++counter);
        nodeTo(op, ins, new String[] {out}, attrs);
        return out;
    }

    public String[] nodeMulti(String op, String tag, String[] ins, int nOut, Attr... attrs) {
        String[] outs = new String[nOut];
        counter++;
        for (int i = 0; i < nOut; i++) outs[i] = tag + "_" + counter + "_o" + i;
        nodeTo(op, ins, outs, attrs);
        return outs;
    }

    public void nodeTo(String op, String[] ins, String[] outs, Attr... attrs) {
        nodeTo("", op, ins, outs, attrs);
    }

    /** A node of the {@code com.microsoft} contrib domain (MatMulNBits); the model then imports that opset too. */
    public String msNode(String op, String tag, String[] ins, Attr... attrs) {
        String out = tag + "_" + (++counter);
        microsoft = true;
        nodeTo("com.microsoft", op, ins, new String[] {out}, attrs);
        return out;
    }

    private void nodeTo(String domain, String op, String[] ins, String[] outs, Attr... attrs) {
        Msg n = new Msg();
        for (String i : ins) n.str(1, i);
        for (String o : outs) n.str(2, o);
        n.str(3, "n_" + outs[0]);
        n.str(4, op);
        for (Attr at : attrs) {
            Msg m = new Msg().str(1, at.name());
            switch (at.value()) {
                case Integer i -> m.i64(3, i).i64(20, 2);
                case Long l -> m.i64(3, l).i64(20, 2);
                case Float f -> m.f32(2, f).i64(20, 1);
                case String s -> m.str(4, s).i64(20, 3);
                case long[] ls -> {
                    for (long l : ls) m.i64(8, l);
                    m.i64(20, 7);
                }
                default -> throw new IllegalArgumentException("attribute type " + at.value().getClass());
            }
            n.msg(5, m);
        }
        if (!domain.isEmpty()) n.str(7, domain);
        nodes.add(n.bytes());
    }

    private static Msg tensorHeader(String name, int type, long[] dims) {
        Msg t = new Msg();
        for (long d : dims) t.i64(1, d);
        t.i64(2, type);
        t.str(8, name);
        return t;
    }

    public String floats(String name, long[] dims, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        inits.add(tensorHeader(name, FLOAT, dims).bytes(9, b.array()).bytes());
        return name;
    }

    public String scalar(String name, float v) { return floats(name, new long[0], v); }

    public String longs(String name, long[] dims, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) b.putLong(v);
        inits.add(tensorHeader(name, INT64, dims).bytes(9, b.array()).bytes());
        return name;
    }

    /** 1-D int64 constant. */
    public String vec(String name, long... values) { return longs(name, new long[] {values.length}, values); }

    /** A float32 initializer whose bytes lie in {@code location} (relative to the model file) at offset/length. */
    public String external(String name, long[] dims, String location, long offset, long length) {
        return external(name, FLOAT, dims, location, offset, length);
    }

    /** An initializer of element {@code type} (FLOAT, UINT8, …) whose bytes lie in {@code location} at offset/length. */
    public String external(String name, int type, long[] dims, String location, long offset, long length) {
        Msg t = tensorHeader(name, type, dims);
        t.msg(13, new Msg().str(1, "location").str(2, location));
        t.msg(13, new Msg().str(1, "offset").str(2, Long.toString(offset)));
        t.msg(13, new Msg().str(1, "length").str(2, Long.toString(length)));
        t.i64(14, 1);
        inits.add(t.bytes());
        return name;
    }

    /** Graph input/output; dims are Long (static) or String (symbolic). */
    public void input(String name, int type, Object... dims) { inputs.add(valueInfo(name, type, dims)); }
    public void output(String name, int type, Object... dims) { outputs.add(valueInfo(name, type, dims)); }

    private static byte[] valueInfo(String name, int type, Object[] dims) {
        Msg shape = new Msg();
        for (Object d : dims) {
            Msg dim = new Msg();
            if (d instanceof String s) dim.str(2, s);
            else dim.i64(1, ((Number) d).longValue());
            shape.msg(1, dim);
        }
        Msg tt = new Msg().i64(1, type).msg(2, shape);
        return new Msg().str(1, name).msg(2, new Msg().msg(1, tt)).bytes();
    }

    /** The serialized ModelProto (IR 8, default-domain opset 17). */
    public byte[] model(String graphName, String producer, String doc) {
        Msg g = new Msg();
        for (byte[] n : nodes) g.bytes(1, n);
        g.str(2, graphName);
        for (byte[] t : inits) g.bytes(5, t);
        for (byte[] v : inputs) g.bytes(11, v);
        for (byte[] v : outputs) g.bytes(12, v);
        Msg m = new Msg().i64(1, 8).str(2, producer).str(3, "0.1");
        m.msg(8, new Msg().str(1, "").i64(2, 17));
        if (microsoft) m.msg(8, new Msg().str(1, "com.microsoft").i64(2, 1));
        m.str(6, doc);
        m.msg(7, g);
        return m.bytes();
    }
}
