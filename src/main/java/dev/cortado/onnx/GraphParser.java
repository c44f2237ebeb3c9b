package dev.cortado.onnx;

import dev.cortado.CortadoException;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Parses GraphProto, NodeProto, AttributeProto and ValueInfoProto (subgraphs recursively, to a bounded depth). */
final class GraphParser {
    static final int MAX_GRAPH_DEPTH = 32;

    private final TensorParser tensors;

    GraphParser(TensorParser tensors) {
        this.tensors = tensors;
    }

    Graph graph(ProtoReader r, int depth) {
        if (depth > MAX_GRAPH_DEPTH) throw r.error("subgraphs nested deeper than " + MAX_GRAPH_DEPTH + " levels");
        String name = "";
        List<Node> nodes = new ArrayList<>();
        Map<String, Tensor> inits = new LinkedHashMap<>();
        List<ValueInfo> inputs = new ArrayList<>(), outputs = new ArrayList<>(), valueInfo = new ArrayList<>();
        while (r.hasNext()) {
            switch (r.nextField()) {
                case 1 -> nodes.add(node(r.readMessage("NodeProto"), depth));
                case 2 -> name = r.readString();
                case 5 -> {
                    long at = r.offset();
                    TensorProtoData t = tensors.parse(r.readMessage("TensorProto"));
                    if (t.tensor() == null) throw new CortadoException(t.problem());
                    if (inits.putIfAbsent(t.name(), t.tensor()) != null) {
                        throw r.errorAt(at, "graph '" + name + "' has two initializers named '" + t.name() + "'");
                    }
                }
                case 11 -> inputs.add(valueInfo(r.readMessage("ValueInfoProto")));
                case 12 -> outputs.add(valueInfo(r.readMessage("ValueInfoProto")));
                case 13 -> valueInfo.add(valueInfo(r.readMessage("ValueInfoProto")));
                default -> r.skip();
            }
        }
        return new Graph(name, nodes, inits, inputs, outputs, valueInfo);
    }

    private Node node(ProtoReader r, int depth) {
        String name = "", opType = "", domain = "";
        List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        while (r.hasNext()) {
            switch (r.nextField()) {
                case 1 -> inputs.add(r.readString());
                case 2 -> outputs.add(r.readString());
                case 3 -> name = r.readString();
                case 4 -> opType = r.readString();
                case 5 -> {
                    Attribute a = attribute(r.readMessage("AttributeProto"), depth);
                    attrs.put(a.name(), a);
                }
                case 7 -> domain = r.readString();
                default -> r.skip();
            }
        }
        return new Node(name, opType, domain, inputs, outputs, attrs);
    }

    private Attribute attribute(ProtoReader r, int depth) {
        String name = "";
        int typeCode = 0;
        Attribute.Type inferred = Attribute.Type.UNDEFINED;
        float f = 0;
        long i = 0;
        byte[] s = null;
        TensorProtoData t = null;
        Graph g = null;
        LongList floats = new LongList(), ints = new LongList();
        List<byte[]> strings = new ArrayList<>();
        List<TensorProtoData> tensorList = new ArrayList<>();
        List<Graph> graphs = new ArrayList<>();
        while (r.hasNext()) {
            switch (r.nextField()) {
                case 1 -> name = r.readString();
                case 20 -> typeCode = r.readInt32();
                case 2 -> { f = r.readFloat(); inferred = Attribute.Type.FLOAT; }
                case 3 -> { i = r.readVarint(); inferred = Attribute.Type.INT; }
                case 4 -> { s = bytes(r); inferred = Attribute.Type.STRING; }
                case 5 -> { t = tensors.parse(r.readMessage("TensorProto")); inferred = Attribute.Type.TENSOR; }
                case 6 -> { g = graph(r.readMessage("GraphProto"), depth + 1); inferred = Attribute.Type.GRAPH; }
                case 7 -> { r.readFixed32s(floats); inferred = Attribute.Type.FLOATS; }
                case 8 -> { r.readVarints(ints); inferred = Attribute.Type.INTS; }
                case 9 -> { strings.add(bytes(r)); inferred = Attribute.Type.STRINGS; }
                case 10 -> { tensorList.add(tensors.parse(r.readMessage("TensorProto"))); inferred = Attribute.Type.TENSORS; }
                case 11 -> { graphs.add(graph(r.readMessage("GraphProto"), depth + 1)); inferred = Attribute.Type.GRAPHS; }
                default -> r.skip();
            }
        }
        Attribute.Type type = typeCode != 0 ? Attribute.Type.of(typeCode) : inferred;
        float[] fl = new float[floats.size()];
        for (int k = 0; k < fl.length; k++) fl[k] = Float.intBitsToFloat((int) floats.get(k));
        return new Attribute(name, type, f, i, s, t, g, fl, ints.toArray(), strings, tensorList, graphs);
    }

    private static byte[] bytes(ProtoReader r) {
        long at = r.offset();
        var seg = r.readBytes();
        if (seg.byteSize() > Integer.MAX_VALUE - 16) throw r.errorAt(at, "attribute string too long");
        return seg.toArray(ValueLayout.JAVA_BYTE);
    }

    static ValueInfo valueInfo(ProtoReader r) {
        String name = "";
        int elem = 0;
        List<Object> dims = new ArrayList<>();
        boolean rankKnown = false;
        while (r.hasNext()) {
            switch (r.nextField()) {
                case 1 -> name = r.readString();
                case 2 -> {
                    ProtoReader type = r.readMessage("TypeProto");
                    while (type.hasNext()) {
                        if (type.nextField() == 1) {
                            ProtoReader tensor = type.readMessage("TypeProto.Tensor");
                            while (tensor.hasNext()) {
                                switch (tensor.nextField()) {
                                    case 1 -> elem = tensor.readInt32();
                                    case 2 -> { rankKnown = true; shape(tensor.readMessage("TensorShapeProto"), dims); }
                                    default -> tensor.skip();
                                }
                            }
                        } else {
                            type.skip();
                        }
                    }
                }
                default -> r.skip();
            }
        }
        return new ValueInfo(name, dtypeOrNull(elem), elem, dims, rankKnown);
    }

    private static void shape(ProtoReader r, List<Object> dims) {
        while (r.hasNext()) {
            if (r.nextField() != 1) {
                r.skip();
                continue;
            }
            ProtoReader d = r.readMessage("TensorShapeProto.Dimension");
            Object dim = "?";
            while (d.hasNext()) {
                switch (d.nextField()) {
                    case 1 -> dim = d.readVarint();
                    case 2 -> dim = d.readString();
                    default -> d.skip();
                }
            }
            dims.add(dim);
        }
    }

    private static DType dtypeOrNull(int code) {
        for (DType d : DType.values()) if (d.onnxCode() == code) return d;
        return null;
    }
}
