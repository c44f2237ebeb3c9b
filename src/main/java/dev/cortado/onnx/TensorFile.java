package dev.cortado.onnx;

import dev.cortado.CortadoException;
import dev.cortado.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One serialized TensorProto in a file of its own, as ONNX's test data sets keep their inputs and outputs
 * ({@code test_data_set_0/input_0.pb}). The bytes are read onto the heap, so the tensor needs no closing.
 *
 * @param name       the tensor's name (often empty in test data)
 * @param onnxType   its ONNX data type code
 * @param dims       its dims
 * @param tensor     the values, or null when Cortado has no such element type ({@code problem} says which)
 * @param problem    why {@code tensor} is null, else null
 */
public record TensorFile(String name, int onnxType, long[] dims, Tensor tensor, String problem) {

    /** Reads {@code file}; a missing, unreadable or corrupt file is a CortadoException naming it. */
    public static TensorFile read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new CortadoException("cannot read tensor file " + file + ": " + e.getMessage(), e);
        }
        String source = "tensor file " + file;
        try {
            ProtoReader r = new ProtoReader(MemorySegment.ofArray(bytes), source, "TensorProto");
            TensorProtoData t = new TensorParser(new ExternalData(file, Arena.ofAuto())).parse(r);
            return new TensorFile(t.name(), t.dataType(), t.dims(), t.tensor(), t.problem());
        } catch (CortadoException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CortadoException("corrupt " + source + ": " + e, e);
        }
    }
}
