package dev.cortado.onnx;

import dev.cortado.CortadoException;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Decodes a TensorProto. {@code raw_data} and external data become zero-copy slices of a mapping; the typed repeated
 * fields ({@code float_data}, {@code int32_data}, {@code int64_data}, {@code double_data}, packed or not) are copied
 * into a small heap segment. 16-bit and 8-bit types stored in {@code int32_data} (float16/bfloat16 bit patterns,
 * int8, uint8, bool) are narrowed to their element size.
 */
final class TensorParser {
    private static final int EXTERNAL = 1;

    private final ExternalData external;

    TensorParser(ExternalData external) {
        this.external = external;
    }

    TensorProtoData parse(ProtoReader r) {
        long start = r.offset();
        LongList dims = new LongList();
        int dataType = 0;
        String name = "";
        MemorySegment raw = null;
        LongList floats = null, int32s = null, int64s = null, doubles = null;
        String location = null;
        long offset = 0, length = -1;
        int dataLocation = 0;
        boolean segmented = false;
        while (r.hasNext()) {
            switch (r.nextField()) {
                case 1 -> r.readVarints(dims);
                case 2 -> dataType = r.readInt32();
                case 3 -> { segmented = true; r.skip(); }
                case 4 -> r.readFixed32s(floats = floats == null ? new LongList() : floats);
                case 5 -> r.readVarints(int32s = int32s == null ? new LongList() : int32s);
                case 7 -> r.readVarints(int64s = int64s == null ? new LongList() : int64s);
                case 8 -> name = r.readString();
                case 9 -> raw = r.readBytes();
                case 10 -> r.readFixed64s(doubles = doubles == null ? new LongList() : doubles);
                case 13 -> {
                    String[] kv = readEntry(r.readMessage("StringStringEntryProto"));
                    switch (kv[0]) {
                        case "location" -> location = kv[1];
                        case "offset" -> offset = parseLong(r, name, kv);
                        case "length" -> length = parseLong(r, name, kv);
                        default -> { } // checksum and unknown keys are ignored
                    }
                }
                case 14 -> dataLocation = r.readInt32();
                default -> r.skip();
            }
        }
        long[] shape = dims.toArray();
        String label = "tensor '" + name + "'";
        long numel = 1;
        for (long d : shape) {
            if (d < 0) throw r.errorAt(start, label + " has negative dimension " + d + " in " + Arrays.toString(shape));
            try {
                numel = Math.multiplyExact(numel, d);
            } catch (ArithmeticException e) {
                throw r.errorAt(start, label + " dims " + Arrays.toString(shape) + " overflow");
            }
        }
        DType dtype;
        try {
            dtype = DType.fromOnnx(dataType);
        } catch (CortadoException e) {
            return new TensorProtoData(name, dataType, shape, null, r.source() + ": " + label + " has data type " + dataType + " ("
                    + typeName(dataType) + "), which Cortado does not support (" + e.getMessage() + ")");
        }
        if (segmented) throw r.errorAt(start, label + " uses TensorProto.segment, which is not supported");
        long bytes;
        try {
            bytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw r.errorAt(start, label + " dims " + Arrays.toString(shape) + " overflow");
        }
        MemorySegment data;
        if (dataLocation == EXTERNAL) {
            data = external.slice(name, location, offset, length, bytes);
        } else if (raw != null) {
            if (raw.byteSize() != bytes) {
                throw r.errorAt(start, label + " raw_data has " + raw.byteSize() + " bytes but dims "
                        + Arrays.toString(shape) + " of " + dtype + " need " + bytes);
            }
            data = raw;
        } else {
            data = typed(r, start, label, dtype, numel, floats, int32s, int64s, doubles);
        }
        return new TensorProtoData(name, dataType, shape, new Tensor(dtype, shape, data), null);
    }

    private static MemorySegment typed(ProtoReader r, long start, String label, DType dtype, long numel,
                                       LongList floats, LongList int32s, LongList int64s, LongList doubles) {
        String field;
        LongList values;
        switch (dtype) {
            case F32 -> { field = "float_data"; values = floats; }
            case F64 -> { field = "double_data"; values = doubles; }
            case I64 -> { field = "int64_data"; values = int64s; }
            default -> { field = "int32_data"; values = int32s; }
        }
        int count = values == null ? 0 : values.size();
        if (count != numel) {
            throw r.errorAt(start, label + " of " + dtype + " has " + numel + " elements but "
                    + (count == 0 ? "no raw_data or " + field : count + " values in " + field));
        }
        MemorySegment seg = MemorySegment.ofArray(new byte[Math.toIntExact(numel * dtype.byteSize())]);
        for (int i = 0; i < count; i++) {
            long v = values.get(i);
            switch (dtype.byteSize()) {
                case 8 -> seg.setAtIndex(Tensor.I64_LE, i, v);
                case 4 -> seg.setAtIndex(Tensor.I32_LE, i, (int) v);
                case 2 -> seg.setAtIndex(Tensor.I16_LE, i, (short) v);
                default -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) v);
            }
        }
        return seg;
    }

    private static String[] readEntry(ProtoReader e) {
        String key = "", value = "";
        while (e.hasNext()) {
            switch (e.nextField()) {
                case 1 -> key = e.readString();
                case 2 -> value = e.readString();
                default -> e.skip();
            }
        }
        return new String[] {key, value};
    }

    private static long parseLong(ProtoReader r, String tensor, String[] kv) {
        try {
            long v = Long.parseLong(kv[1].trim());
            if (v >= 0) return v;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw r.error("tensor '" + tensor + "' external_data " + kv[0] + " '" + kv[1] + "' is not a non-negative integer");
    }

    /** TensorProto.DataType names, for messages. */
    static String typeName(int code) {
        String[] names = {"undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64", "string", "bool",
            "float16", "double", "uint32", "uint64", "complex64", "complex128", "bfloat16", "float8e4m3fn",
            "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4", "int4", "float4e2m1"};
        return code >= 0 && code < names.length ? names[code] : "unknown";
    }
}
