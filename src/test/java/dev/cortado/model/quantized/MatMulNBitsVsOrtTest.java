package dev.cortado.model.quantized;

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
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * MatMulNBits decoders (models/fixtures/quantized, written by onnxruntime's MatMulNBitsQuantizer) and one
 * DynamicQuantizeLinear/MatMulInteger decoder (quantize_dynamic) on Cortado's engine against ONNX Runtime Java on the
 * same file: logits within 1e-3 at every step, greedy ids identical.
 */
class MatMulNBitsVsOrtTest {
    static final Path DIR = Path.of("models/fixtures/quantized");

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-int4", "tiny-qwen2-int4-sym", "tiny-gpt2-int4", "tiny-mistral-int8", "tiny-llama-int4-b128"})
    void greedyAndLogitsMatchOrt(String name) {
        Path dir = DIR.resolve(name);
        try (DecoderModel c = Families.openCortadoDecoder(dir, new CpuBackend());
             LanguageModel o = new OrtDecoder(dir.resolve("model.onnx"), 128)) {
            assertTrue(c.describe().contains("onnx"), c.describe());
            double worst = 0, prefill = 0;
            // one prompt, 24 greedy steps (each engine follows its own argmax; they must agree)
            try (DecoderSession sc = c.newSession(1); DecoderSession so = o.newSession(1)) {
                int[][] prompt = {{1, 17, 42, 99, 5, 63}};
                float[] lc = sc.step(prompt, null)[0], lo = so.step(prompt, null)[0];
                for (int step = 0; step < 24; step++) {
                    // step 0 = the prompt's logits: Cortado's lm_head sees only each row's last position, ONNX Runtime's
                    // all prompt positions, so a MatMulInteger lm_head's per-tensor activation range differs there
                    if (step == 0 && name.contains("dynamic")) prefill = maxAbs(lc, lo);
                    else worst = Math.max(worst, maxAbs(lc, lo));
                    int tc = Fixtures.argmax(lc), to = Fixtures.argmax(lo);
                    assertEquals(to, tc, name + ": greedy id at step " + step);
                    lc = sc.step(new int[][] {{tc}}, null)[0];
                    lo = so.step(new int[][] {{to}}, null)[0];
                }
            }
            // a left-padded batch of two; not for MatMulInteger graphs: their per-tensor activation quantization spans the
            // whole batch, padded positions included, whose values (attention over no visible key) each engine defines
            // its own way (ONNX Runtime: uniform weights over the masked keys; Cortado: zero), so rows are not comparable
            if (!name.contains("dynamic")) try (DecoderSession sc = c.newSession(2); DecoderSession so = o.newSession(2)) {
                int[][] toks = {{0, 0, 7, 8, 9}, {3, 30, 60, 90, 120}};
                boolean[][] valid = {{false, false, true, true, true}, {true, true, true, true, true}};
                float[][] lc = sc.step(toks, valid), lo = so.step(toks, valid);
                for (int step = 0; step < 8; step++) {
                    int[][] next = new int[2][1];
                    for (int r = 0; r < 2; r++) {
                        worst = Math.max(worst, maxAbs(lc[r], lo[r]));
                        next[r][0] = Fixtures.argmax(lo[r]);
                        assertEquals(next[r][0], Fixtures.argmax(lc[r]), name + ": batch row " + r + " step " + step);
                    }
                    lc = sc.step(next, null);
                    lo = so.step(next, null);
                }
            }
            System.out.printf("%s: max |logit Cortado − ORT| = %.3g%s%n", name, worst,
                    name.contains("dynamic") ? String.format(" (prompt step, lm_head range differs: %.3g)", prefill) : "");
            assertTrue(worst <= 1e-3, name + ": max abs logit diff " + worst);
        }
    }

    @org.junit.jupiter.api.Test
    void dynamicInt8DecoderGreedyMatchesOrt() {
        greedyAndLogitsMatchOrt("tiny-llama-int8-dynamic");
    }

    static double maxAbs(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double w = 0;
        for (int i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
        if (Double.isNaN(w)) throw new AssertionError("NaN logits " + Arrays.toString(a));
        return w;
    }
}
