package dev.cortado.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.generate.LanguageModel;
import dev.cortado.ort.OrtDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The oracle check behind the generate bench (not timing): a synthetic smoke model written by the bench gives the
 * same greedy tokens through Cortado (from safetensors) and ONNX Runtime (from the bench's own ONNX graph).
 */
class SyntheticOracleTest {
    @TempDir static Path cache;

    @ParameterizedTest
    @ValueSource(strings = {"llama-3.2-1b-smoke", "qwen2-0.5b-smoke", "gpt2-124m-smoke"})
    void cortadoAndOrtGiveSameGreedyTokens(String name) {
        Path dir = SyntheticModels.materialize(name, cache);
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")));
        int[][] prompt = GenerateBench.prompt(3, 12, SyntheticModels.spec(name).vocab(), 7);
        int[][] ort;
        try (LanguageModel m = new Engines.Ort(Engines.onnxOf(dir), 128, 2)) {
            ort = GenerateBench.greedy(m, prompt, 16, null).tokens();
        }
        try (LanguageModel m = new OrtDecoder(Engines.onnxOf(dir), 128)) {
            assertArrayEquals(ort, GenerateBench.greedy(m, prompt, 16, null).tokens(), "fast ORT session vs OrtDecoder");
        }
        String why = Engines.cortadoUnavailable(dir);
        Assumptions.assumeTrue(why == null, why);
        try (LanguageModel m = Engines.cortado(dir)) {
            int[][] c = GenerateBench.greedy(m, prompt, 16, null).tokens();
            for (int r = 0; r < c.length; r++) assertArrayEquals(ort[r], c[r], name + " row " + r + ": Cortado vs ORT greedy tokens");
            assertEquals(3, c.length);
        }
    }
}
