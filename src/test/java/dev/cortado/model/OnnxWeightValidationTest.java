package dev.cortado.model;

import dev.cortado.registry.Families;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #18, ONNX initializers: traced weights are checked against the family's expectations like safetensors ones
 * (dtype, rank, shape), and raw_data length against dims. Each case patches one TensorProto field of tiny-llama's
 * real TorchScript export (q_proj of layer 0 is the initializer {@code onnx::MatMul_685}, [64, 64] float).
 */
class OnnxWeightValidationTest {
    static final Path LLAMA = Fixtures.ROOT.resolve("tiny-llama");
    static final String Q = "onnx::MatMul_685";

    @TempDir
    Path dir;

    /** The offset of the data_type varint (field 2, tag 0x10) of the initializer named {@code name}. */
    static int dataTypeOffset(byte[] onnx, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        for (int i = 2; i + n.length < onnx.length; i++) {
            if (onnx[i - 2] != 0x42 || onnx[i - 1] != n.length) continue; // TensorProto.name (field 8)
            boolean match = true;
            for (int j = 0; j < n.length && match; j++) match = onnx[i + j] == n[j];
            if (!match) continue;
            for (int k = i - 3; k > i - 40; k--) if (onnx[k] == 0x10 && onnx[k + 1] == 0x01) return k + 1;
        }
        throw new AssertionError("initializer " + name + " not found");
    }

    Path patched(int value) throws Exception {
        byte[] onnx = Files.readAllBytes(LLAMA.resolve("model.onnx"));
        onnx[dataTypeOffset(onnx, Q)] = (byte) value;
        Files.copy(LLAMA.resolve("config.json"), dir.resolve("config.json"));
        return Files.write(dir.resolve("model.onnx"), onnx);
    }

    @Test
    void matMulWeightRelabelledInt32IsRejected() throws Exception {
        Path onnx = patched(6); // INT32: same 4 bytes per element, so only the dtype check can catch it
        CortadoException e = assertThrows(CortadoException.class,
                () -> Families.openDecoder(onnx, new CpuBackend(), Families.Engine.CORTADO).close());
        assertEquals(onnx + ": tensor '" + Q + "' has dtype I32 [64, 64], expected a float weight (F32, F16, BF16 or F64)", e.getMessage());
    }

    @Test
    void rawDataLengthMustMatchDims() throws Exception {
        Path onnx = patched(10); // FLOAT16: 2 bytes per element, raw_data holds 4
        CortadoException e = assertThrows(CortadoException.class,
                () -> Families.openDecoder(onnx, new CpuBackend(), Families.Engine.CORTADO).close());
        assertTrue(e.getMessage().startsWith("corrupt ONNX file " + onnx + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("raw_data has 16384 bytes but dims [64, 64]"), e.getMessage());
    }

    @Test
    void layerCountIsCheckedAgainstTheTracedGraph() throws Exception {
        Path onnx = patched(1);
        Files.writeString(dir.resolve("config.json"), Files.readString(dir.resolve("config.json"))
                .replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3"));
        CortadoException e = assertThrows(CortadoException.class,
                () -> Families.openDecoder(onnx, new CpuBackend(), Families.Engine.CORTADO).close());
        assertEquals(dir.resolve("config.json") + ": num_hidden_layers = 3, must be the number of layers in " + onnx + " (2 traced)", e.getMessage());
    }

    @Test
    void configDisagreeingWithTracedShapesIsRejected() throws Exception {
        Path onnx = patched(1);
        String config = Files.readString(dir.resolve("config.json")).replace("\"intermediate_size\": 128", "\"intermediate_size\": 96");
        Files.writeString(dir.resolve("config.json"), config);
        CortadoException e = assertThrows(CortadoException.class,
                () -> Families.openDecoder(onnx, new CpuBackend(), Families.Engine.CORTADO).close());
        assertTrue(e.getMessage().matches(java.util.regex.Pattern.quote(onnx.toString()) + ": tensor 'onnx::MatMul_71\\d' has shape \\[64, 128\\], expected \\[64, 96\\]"),
                e.getMessage());
    }
}
