package dev.cortado.onnx;

import dev.cortado.CortadoException;
import dev.cortado.tensor.Tensor;

/**
 * A decoded TensorProto: its name, ONNX data type code and dims, and either the tensor or the reason it could not be
 * made (an unsupported data type). The failure is kept rather than thrown so that a constant nobody reads (e.g. a
 * string tensor in a Constant node) does not stop a model from opening.
 */
record TensorProtoData(String name, int dataType, long[] dims, Tensor tensor, String problem) {

    /** The tensor, or a CortadoException with the reason it is unavailable. */
    Tensor require() {
        if (tensor == null) throw new CortadoException(problem);
        return tensor;
    }
}
