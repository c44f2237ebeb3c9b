package dev.cortado.onnx;

import dev.cortado.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A node attribute (AttributeProto). Only the value matching {@link #type()} is meaningful; the others are zero,
 * empty or null. Tensor values are decoded on first use ({@link #t()} throws a CortadoException for data types
 * Cortado does not support, e.g. strings). Subgraphs ({@code If}/{@code Loop}/{@code Scan} bodies) are parsed into
 * {@link Graph}s.
 */
public final class Attribute {
    /** AttributeProto.AttributeType, with its wire code. */
    public enum Type {
        UNDEFINED(0), FLOAT(1), INT(2), STRING(3), TENSOR(4), GRAPH(5), FLOATS(6), INTS(7), STRINGS(8), TENSORS(9),
        GRAPHS(10), SPARSE_TENSOR(11), SPARSE_TENSORS(12), TYPE_PROTO(13), TYPE_PROTOS(14);

        private final int code;

        Type(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        /** The type with this code, or UNDEFINED for codes this reader does not know. */
        public static Type of(int code) {
            for (Type t : values()) if (t.code == code) return t;
            return UNDEFINED;
        }
    }

    private final String name;
    private final Type type;
    private final float f;
    private final long i;
    private final byte[] s;
    private final TensorProtoData t;
    private final Graph g;
    private final float[] floats;
    private final long[] ints;
    private final List<byte[]> strings;
    private final List<TensorProtoData> tensors;
    private final List<Graph> graphs;

    Attribute(String name, Type type, float f, long i, byte[] s, TensorProtoData t, Graph g, float[] floats,
              long[] ints, List<byte[]> strings, List<TensorProtoData> tensors, List<Graph> graphs) {
        this.name = name;
        this.type = type;
        this.f = f;
        this.i = i;
        this.s = s;
        this.t = t;
        this.g = g;
        this.floats = floats;
        this.ints = ints;
        this.strings = List.copyOf(strings);
        this.tensors = List.copyOf(tensors);
        this.graphs = List.copyOf(graphs);
    }

    public String name() {
        return name;
    }

    public Type type() {
        return type;
    }

    public float f() {
        return f;
    }

    public long i() {
        return i;
    }

    /** The STRING value decoded as UTF-8 ("" when absent). */
    public String s() {
        return s == null ? "" : new String(s, StandardCharsets.UTF_8);
    }

    /** The STRING value as raw bytes (it may be binary), or null when absent. */
    public byte[] bytes() {
        return s == null ? null : s.clone();
    }

    /** The TENSOR value, or null when absent. */
    public Tensor t() {
        return t == null ? null : t.require();
    }

    /** The GRAPH value, or null when absent. */
    public Graph g() {
        return g;
    }

    public float[] floats() {
        return floats.clone();
    }

    public long[] ints() {
        return ints.clone();
    }

    public List<String> strings() {
        List<String> out = new ArrayList<>(strings.size());
        for (byte[] b : strings) out.add(new String(b, StandardCharsets.UTF_8));
        return List.copyOf(out);
    }

    public List<Tensor> tensors() {
        List<Tensor> out = new ArrayList<>(tensors.size());
        for (TensorProtoData d : tensors) out.add(d.require());
        return List.copyOf(out);
    }

    public List<Graph> graphs() {
        return graphs;
    }

    @Override
    public String toString() {
        String v = switch (type) {
            case FLOAT -> Float.toString(f);
            case INT -> Long.toString(i);
            case STRING -> '"' + s() + '"';
            case TENSOR -> t == null ? "null" : "tensor " + t.name() + " type " + t.dataType() + " dims "
                    + java.util.Arrays.toString(t.dims());
            case GRAPH -> "graph " + (g == null ? "null" : g.name());
            case FLOATS -> java.util.Arrays.toString(floats);
            case INTS -> java.util.Arrays.toString(ints);
            case STRINGS -> strings().toString();
            case TENSORS -> tensors.size() + " tensors";
            case GRAPHS -> graphs.size() + " graphs";
            default -> type.name();
        };
        return name + "=" + v;
    }
}
