package dev.cortado.onnx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builders for ONNX protobuf messages (field numbers from onnx.proto), used to write fixture files. */
final class Fixtures {
    // TensorProto.DataType
    static final int FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7, STRING = 8, BOOL = 9, FLOAT16 = 10,
            DOUBLE = 11, BFLOAT16 = 16;

    private Fixtures() {}

    /** TensorProto header: dims (packed), data_type, name. */
    static ProtoWriter tensor(String name, int dataType, long... dims) {
        ProtoWriter t = new ProtoWriter();
        if (dims.length > 0) t.packedVarints(1, dims);
        return t.varint(2, dataType).string(8, name);
    }

    static ProtoWriter rawFloats(String name, long[] dims, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return tensor(name, FLOAT, dims).bytes(9, b.array());
    }

    /** TensorProto stored in an external file. */
    static ProtoWriter external(String name, long[] dims, String location, long offset, long length) {
        ProtoWriter t = tensor(name, FLOAT, dims);
        t.message(13, new ProtoWriter().string(1, "location").string(2, location));
        if (offset >= 0) t.message(13, new ProtoWriter().string(1, "offset").string(2, Long.toString(offset)));
        if (length >= 0) t.message(13, new ProtoWriter().string(1, "length").string(2, Long.toString(length)));
        return t.varint(14, 1);
    }

    static ProtoWriter node(String op, String name, String[] inputs, String[] outputs, ProtoWriter... attributes) {
        ProtoWriter n = new ProtoWriter();
        for (String i : inputs) n.string(1, i);
        for (String o : outputs) n.string(2, o);
        n.string(3, name).string(4, op);
        for (ProtoWriter a : attributes) n.message(5, a);
        return n;
    }

    /** AttributeProto with name and type; the caller adds the value field. */
    static ProtoWriter attr(String name, int type) {
        return new ProtoWriter().string(1, name).varint(20, type);
    }

    /** ValueInfoProto for a tensor; dims entries are Long (dim_value), String (dim_param) or null (empty dim). */
    static ProtoWriter valueInfo(String name, int elemType, Object... dims) {
        ProtoWriter shape = new ProtoWriter();
        for (Object d : dims) {
            ProtoWriter dim = new ProtoWriter();
            if (d instanceof Long l) dim.varint(1, l);
            else if (d instanceof String s) dim.string(2, s);
            shape.message(1, dim);
        }
        ProtoWriter tensorType = new ProtoWriter().varint(1, elemType).message(2, shape);
        return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
    }

    /** ModelProto: ir_version 8, producer "fixture", opset ai.onnx 17, the graph. */
    static ProtoWriter model(ProtoWriter graph) {
        return new ProtoWriter().varint(1, 8).string(2, "fixture")
                .message(7, graph)
                .message(8, new ProtoWriter().string(1, "").varint(2, 17));
    }

    static Path write(Path file, ProtoWriter w) throws IOException {
        Files.write(file, w.toByteArray());
        return file;
    }
}
