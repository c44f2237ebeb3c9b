package dev.cortado.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.DecoderModel;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import dev.cortado.ort.OrtDecoder;
import dev.cortado.registry.Families;
import dev.cortado.testing.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The bench's int4 MatMulNBits file ({@link Int4Onnx}, written from Cortado's own quantizer), at smoke size: ONNX Runtime
 * Java (the reference, written by others) and Cortado's engine (through its MatMulNBits tracer) on that one file give
 * the same greedy ids and logits within 1e-3 at every step, at accuracy_level 0 (float activations times dequantized
 * weights) and at the builder's CPU level 4 (activations quantized to int8 per block, exact integer sums: MLAS's CompInt8,
 * Cortado's {@code Q4Int8Matmul}).
 */
class Int4OnnxVsOrtTest {
    @TempDir
    static Path root;

    @ParameterizedTest
    @CsvSource({"gpt2-124m-smoke, false, 0", "gpt2-124m-smoke, true, 0", "llama-int4-smoke, false, 0", "llama-int4-smoke, true, 0",
            "gpt2-124m-smoke, false, 4", "gpt2-124m-smoke, true, 4", "llama-int4-smoke, false, 4", "llama-int4-smoke, true, 4"})
    void cortadoMatchesOrtOnTheSameFile(String name, boolean zeroPoints, int accuracyLevel) {
        // llama-3.2-1b-smoke's intermediate size (172) is not a multiple of 32: a smoke Llama of its own with 256
        SyntheticModels.Spec s = name.startsWith("llama") ? new SyntheticModels.Spec("llama-int4-smoke", SyntheticModels.Family.LLAMA,
                64, 2, 4, 2, 256, 1024, 128, 10000, true, 1e-5) : SyntheticModels.spec(name);
        Path dir = Int4Onnx.materialize(s, root, new Int4Onnx.Options(zeroPoints, accuracyLevel));
        try (DecoderModel c = Families.openCortadoDecoder(dir, new CpuBackend());
             LanguageModel o = new OrtDecoder(dir.resolve("model.onnx"), 128)) {
            assertTrue(c.describe().contains("MatMulNBits"), c.describe());
            double worst = 0;
            int flips = 0;
            try (DecoderSession sc = c.newSession(1); DecoderSession so = o.newSession(1)) {
                int[][] prompt = {{1, 17, 42, 99, 5, 63, 700, 1000}};
                float[] lc = sc.step(prompt, null)[0], lo = so.step(prompt, null)[0];
                for (int step = 0; step < 24; step++) {
                    double d = maxAbs(lc, lo);
                    worst = Math.max(worst, d);
                    if (d > 1e-5) flips++;
                    int tc = Fixtures.argmax(lc), to = Fixtures.argmax(lo);
                    assertEquals(to, tc, name + ": greedy id at step " + step);
                    lc = sc.step(new int[][] {{tc}}, null)[0];
                    lo = so.step(new int[][] {{to}}, null)[0];
                }
            }
            System.out.printf("%s (zero points %s, accuracy_level %d): max |logit Cortado − ORT| = %.3g, steps over 1e-5: %d%n", name, zeroPoints, accuracyLevel, worst, flips);
            if (accuracyLevel == 0) {
                assertTrue(worst <= 1e-3, name + ": max abs logit diff " + worst);
            } else {
                // int8 activations make each linear discontinuous in its input: where an activation lies within an ulp of
                // a rounding boundary (x·127/amax = n + ½), the 1e-7-level differences of the float ops before it (norms,
                // attention: see level 0) can round it the other way in one engine, moving that step's logits by
                // d·|w| (measured: 2.5e-3 at one step of 24 in one of these four cases, ≤ 4.2e-7 at every other step).
                // Equal math everywhere else: at most two such steps, every step within 1e-2.
                assertTrue(flips <= 2 && worst <= 1e-2, name + ": " + flips + " steps over 1e-5, max abs logit diff " + worst);
            }
        }
    }

    static double maxAbs(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double w = 0;
        for (int i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
        if (Double.isNaN(w)) throw new AssertionError("NaN logits");
        return w;
    }
}
