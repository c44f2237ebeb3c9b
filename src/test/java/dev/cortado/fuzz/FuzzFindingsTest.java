package dev.cortado.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cortado.CortadoException;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.registry.Families;
import dev.cortado.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Regression tests for what {@link ModelFilesFuzzTest} found, each replayed from its exact mutation. */
class FuzzFindingsTest {
    @TempDir
    Path dir;

    /**
     * Seed 7 case 6350 (first run): bit flips in tiny-bart's encoder_model.onnx renamed a LayerNormalization's scale
     * input, and the tracer dereferenced the missing constant (NullPointerException).
     */
    @Test
    void layerNormWithoutConstantScaleIsAClearError() throws Exception {
        Path src = Fixtures.ROOT.resolve("tiny-bart");
        for (String f : new String[] {"config.json", "decoder_model.onnx"}) Files.copy(src.resolve(f), dir.resolve(f));
        byte[] enc = Files.readAllBytes(src.resolve("encoder_model.onnx"));
        int[][] flips = {{79445, 6}, {70432, 4}, {71200, 3}, {134419, 1}, {70305, 1}};
        for (int[] f : flips) enc[f[0]] ^= (byte) (1 << f[1]);
        Files.write(dir.resolve("encoder_model.onnx"), enc);
        CortadoException e = assertThrows(CortadoException.class,
                () -> Families.openSeq2Seq(dir, new CpuBackend(), Families.Engine.CORTADO).close());
        assertEquals("LayerNormalization node '/encoder/layernorm_embedding/LayerNormalization': its scale input is not a "
                + "constant initializer, so Cortado's engine cannot trace this graph (try --engine ort)", e.getMessage());
    }
}
