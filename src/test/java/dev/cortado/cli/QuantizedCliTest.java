package dev.cortado.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.engine.DefaultModels;
import org.junit.jupiter.api.Test;

/** Quantized ONNX graphs through the CLI: Cortado's engine runs them (no fallback); unsupported ones give one line. */
class QuantizedCliTest {
    @Test
    void infoSaysAnInt4DecoderRunsOnCortado() {
        CliErrorsTest.Run r = CliErrorsTest.run("info", "--model", "models/fixtures/quantized/tiny-llama-int4", "--engine", "cortado");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("engine:     llama (llama, onnx, int4 MatMulNBits (15 of 15 linears))"), r.out());
    }

    @Test
    void int8EmbedderRunsOnCortadoAndAutoPicksIt() {
        String dir = DefaultModels.minilmQuantized().toString();
        CliErrorsTest.Run e = CliErrorsTest.run("embed", "--engine", "cortado", "--model", dir, "A man is eating food.");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().startsWith("{\"text\":\"A man is eating food.\",\"embedding\":["), e.out());
        CliErrorsTest.Run auto = CliErrorsTest.run("info", "--model", dir, "--engine", "auto");
        assertEquals(0, auto.code(), auto.err());
        assertTrue(auto.out().contains("engine:     bert: 6 layers, hidden 384, 12 heads, GELU_ERF, int8 MatMulInteger (36 of 36 linears)"), auto.out());
    }

    @Test
    void unsupportedMatMulNBitsIsOneLineExit2() {
        CliErrorsTest.Run r = CliErrorsTest.run("info", "--model", "models/fixtures/quantized/bad-tiny-llama-int4-gidx", "--engine", "cortado")
                .withoutWarnings();
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("MatMulNBits node") && r.err().contains("g_idx") && r.err().contains("--engine ort"), r.err());
    }
}
