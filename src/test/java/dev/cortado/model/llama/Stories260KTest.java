package dev.cortado.model.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.LanguageModel;
import dev.cortado.ort.OrtDecoder;
import dev.cortado.generate.DecoderSession;
import dev.cortado.testing.Shared;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * stories260K (llama2.c) through Cortado's own Llama forward pass, loaded from safetensors and from ONNX.
 * Goldens: ../shared/models/stories260K/goldens.json, computed by llama2.c's reference (see its README).
 */
class Stories260KTest {
    static Stream<String> sources() {
        return Stream.of("safetensors", "onnx", "ort");
    }

    static LanguageModel open(String source) {
        Path dir = Shared.require("models/stories260K");
        if (source.equals("ort")) return new OrtDecoder(dir.resolve("onnx/model.onnx"), 512);
        return source.equals("onnx") ? LlamaFamily.fromOnnx(dir.resolve("onnx/model.onnx"), new CpuBackend())
                : LlamaFamily.fromSafetensors(dir, new CpuBackend());
    }

    static JsonNode goldens() throws Exception {
        return new ObjectMapper().readTree(Shared.require("models/stories260K/goldens.json").toFile());
    }

    static int argmax(float[] a) {
        int b = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
        return b;
    }

    @ParameterizedTest
    @MethodSource("sources")
    void greedy200FromBosEqualsLlama2c(String source) throws Exception {
        JsonNode g = goldens().get("greedy_from_bos");
        int[] expected = new ObjectMapper().convertValue(g.has("ids") ? g.get("ids") : g.get("generated_ids"), int[].class);
        try (LanguageModel m = open(source); DecoderSession s = m.newSession(1)) {
            int[] got = new int[expected.length];
            int tok = 1;
            for (int i = 0; i < expected.length; i++) {
                tok = argmax(s.step(new int[][] {{tok}}, null)[0]);
                got[i] = tok;
            }
            assertArrayEquals(expected, got);
        }
    }

    @ParameterizedTest
    @MethodSource("sources")
    void top5LogprobsWithin1e4(String source) throws Exception {
        JsonNode steps = goldens().get("greedy_from_bos_top5_logprobs_float64");
        try (LanguageModel m = open(source); DecoderSession s = m.newSession(1)) {
            int tok = 1;
            for (JsonNode step : steps) {
                float[] logits = s.step(new int[][] {{tok}}, null)[0];
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (float x : logits) max = Math.max(max, x);
                for (float x : logits) sum += Math.exp(x - max);
                double lse = max + Math.log(sum);
                JsonNode top = step.has("top5") ? step.get("top5") : step.get("top");
                for (JsonNode e : top) {
                    int id = e.get("id").asInt();
                    assertEquals(e.get("logprob").asDouble(), logits[id] - lse, 1e-4, "token " + id);
                }
                tok = argmax(logits);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sources")
    void prefillEqualsTokenByTokenAndLeftPaddedBatch(String source) throws Exception {
        int[] prompt = {1, 403, 407, 261, 378};
        try (LanguageModel m = open(source)) {
            float[] oneByOne;
            try (DecoderSession s = m.newSession(1)) {
                float[] l = null;
                for (int t : prompt) l = s.step(new int[][] {{t}}, null)[0];
                oneByOne = l;
            }
            float[][] batch;
            try (DecoderSession s = m.newSession(2)) {
                int[][] toks = {{0, 0, 1, 403, 407, 261, 378}, {1, 403, 407, 261, 378, 432, 383}};
                boolean[][] valid = {{false, false, true, true, true, true, true}, {true, true, true, true, true, true, true}};
                batch = s.step(toks, valid);
            }
            double worst = 0;
            for (int i = 0; i < oneByOne.length; i++) worst = Math.max(worst, Math.abs(oneByOne[i] - batch[0][i]));
            assertTrue(worst < 1e-4, "left-padded prefill vs token-by-token: " + worst);
        }
    }

    @org.junit.jupiter.api.Test
    void logitsMatchOrtFor64GreedyStepsOnLeftPaddedBatchOf3() throws Exception {
        int[][] prompts = {{0, 0, 0, 1, 403, 407}, {1, 346, 306, 414, 263, 304}, {0, 0, 0, 0, 1, 297}};
        boolean[][] valid = new boolean[3][6];
        for (int r = 0; r < 3; r++) for (int j = 0; j < 6; j++) valid[r][j] = prompts[r][j] != 0;
        try (LanguageModel c = open("onnx"); LanguageModel o = open("ort");
             DecoderSession sc = c.newSession(3); DecoderSession so = o.newSession(3)) {
            float[][] lc = sc.step(prompts, valid), lo = so.step(prompts, valid);
            double worst = 0, worstNoCache = 0;
            java.util.List<int[]> seq = new java.util.ArrayList<>();
            for (int step = 0; step < 64; step++) {
                int[][] next = new int[3][1];
                if (step % 21 == 0) {
                    // without a KV cache: a fresh session over the whole sequence so far, one forward pass
                    int len = 6 + seq.size();
                    int[][] all = new int[3][len];
                    boolean[][] v = new boolean[3][len];
                    for (int r = 0; r < 3; r++) {
                        System.arraycopy(prompts[r], 0, all[r], 0, 6);
                        System.arraycopy(valid[r], 0, v[r], 0, 6);
                        for (int j = 0; j < seq.size(); j++) {
                            all[r][6 + j] = seq.get(j)[r];
                            v[r][6 + j] = true;
                        }
                    }
                    try (DecoderSession fresh = c.newSession(3)) {
                        float[][] full = fresh.step(all, v);
                        for (int r = 0; r < 3; r++) {
                            for (int i = 0; i < full[r].length; i++) worstNoCache = Math.max(worstNoCache, Math.abs(full[r][i] - lo[r][i]));
                        }
                    }
                }
                for (int r = 0; r < 3; r++) {
                    for (int i = 0; i < lc[r].length; i++) worst = Math.max(worst, Math.abs(lc[r][i] - lo[r][i]));
                    next[r][0] = argmax(lo[r]);
                    assertEquals(next[r][0], argmax(lc[r]), "row " + r + " step " + step);
                }
                int[] col = new int[3];
                for (int r = 0; r < 3; r++) col[r] = next[r][0];
                seq.add(col);
                lc = sc.step(next, null);
                lo = so.step(next, null);
            }
            assertTrue(worst <= 1e-4, "max abs logits diff vs ORT " + worst);
            assertTrue(worstNoCache <= 1e-4, "without KV cache, max abs logits diff vs ORT " + worstNoCache);
        }
    }

    @org.junit.jupiter.api.Test
    void bf16LinearWeightsStayCloseToFloat32() throws Exception {
        Path dir = Shared.require("models/stories260K");
        try (LanguageModel f = LlamaFamily.fromSafetensors(dir, new CpuBackend());
             LanguageModel h = LlamaFamily.fromSafetensors(dir, new CpuBackend(dev.cortado.backend.cpu.WorkerPool.shared(),
                     dev.cortado.tensor.DType.BF16));
             DecoderSession sf = f.newSession(1); DecoderSession sh = h.newSession(1)) {
            int tok = 1;
            double worst = 0;
            for (int step = 0; step < 16; step++) {
                float[] a = sf.step(new int[][] {{tok}}, null)[0], b = sh.step(new int[][] {{tok}}, null)[0];
                for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
                tok = argmax(a);
            }
            // bfloat16 keeps 8 bits of mantissa: logits move by a few hundredths, not more
            assertTrue(worst < 0.25, "bf16 vs f32 max abs logits diff " + worst);
            assertTrue(worst > 0, "bf16 weights must actually be used");
        }
    }
}
