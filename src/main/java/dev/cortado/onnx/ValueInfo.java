package dev.cortado.onnx;

import dev.cortado.tensor.DType;
import java.util.List;

/**
 * A graph input, output or value_info entry (ValueInfoProto).
 *
 * @param name         the value name
 * @param elemType     the tensor element type, or null when not a tensor, unknown, or a type Cortado does not support
 * @param onnxElemType TensorProto.DataType code as written (0 when unknown or not a tensor)
 * @param dims         one entry per dimension: a {@link Long} for dim_value, a {@link String} for dim_param, or the
 *                     String {@code "?"} when the dimension has neither; empty for scalars and unknown rank
 * @param rankKnown    false when the type has no shape at all (rank unknown) or is not a tensor
 */
public record ValueInfo(String name, DType elemType, int onnxElemType, List<Object> dims, boolean rankKnown) {
    public ValueInfo {
        dims = List.copyOf(dims);
    }

    /** Dimension i as a number, or -1 when it is symbolic or unknown. */
    public long dimValue(int i) {
        return dims.get(i) instanceof Long l ? l : -1;
    }

    @Override
    public String toString() {
        return name + ": " + (elemType == null ? "type " + onnxElemType : elemType) + (rankKnown ? " " + dims : " [?]");
    }
}
