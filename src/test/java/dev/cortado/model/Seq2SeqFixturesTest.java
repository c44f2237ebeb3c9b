package dev.cortado.model;

import dev.cortado.registry.Families;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import dev.cortado.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Tiny seq2seq fixtures (models/fixtures, built with Hugging Face transformers): raw decoder logits of the first
 * greedy steps within 1e-4 of transformers, and batched right-padded greedy ids identical, through Cortado's
 * engine (safetensors) and ONNX Runtime (Optimum ONNX files).
 */
class Seq2SeqFixturesTest {
    static final Path ROOT = Fixtures.ROOT;
    static final String[] NAMES = {"tiny-t5", "tiny-flan-t5", "tiny-bart", "tiny-marian"};

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String n : NAMES) for (String e : new String[] {"cortado", "onnx", "ort"}) out.add(Arguments.of(n, e));
        return out.stream();
    }

    static Seq2Seq open(String name, String engine) {
        if (engine.equals("onnx")) {
            var c = ModelConfig.find(ROOT.resolve(name));
            return c.modelType().equals("t5") ? dev.cortado.model.t5.T5Family.fromOnnx(ROOT.resolve(name), new CpuBackend())
                    : dev.cortado.model.bart.BartFamily.fromOnnx(ROOT.resolve(name), new CpuBackend());
        }
        return Families.openSeq2Seq(ROOT.resolve(name), new CpuBackend(), Families.Engine.parse(engine));
    }




    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("cases")
    void stepLogitsWithin1e4(String name, String engine) throws Exception {
        JsonNode g = Fixtures.goldens(name);
        int start = g.get("special_ids").get("decoder_start_token_id").asInt();
        try (Seq2Seq m = open(name, engine)) {
            double worst = 0;
            for (JsonNode c : g.get("step_logits").get("cases")) {
                int[] src = Fixtures.ints(c.get("input_ids")), tokens = Fixtures.ints(c.get("tokens"));
                boolean[][] valid = {new boolean[src.length]};
                java.util.Arrays.fill(valid[0], true);
                LanguageModel lm = m.bind(m.encode(new int[][] {src}, valid), 1);
                try (DecoderSession s = lm.newSession(1)) {
                    float[] logits = s.step(new int[][] {{start}}, null)[0];
                    for (int step = 0; step < tokens.length; step++) {
                        JsonNode ref = c.get("logits").get(step);
                        for (int i = 0; i < logits.length; i++) {
                            double r = ref.get(i).asDouble();
                            worst = Math.max(worst, Math.abs(logits[i] - r) - Math.abs(r) * 5e-6);
                        }
                        assertEquals(tokens[step], Fixtures.argmax(logits), name + " step " + step);
                        logits = s.step(new int[][] {{tokens[step]}}, null)[0];
                    }
                }
            }
            assertTrue(worst <= 1e-4, name + " via " + engine + ": max abs logits diff " + worst);
        }
    }

    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("cases")
    void batchedGreedyEncodesOnceAndMatches(String name, String engine) throws Exception {
        JsonNode g = Fixtures.goldens(name);
        JsonNode special = g.get("special_ids");
        int start = special.get("decoder_start_token_id").asInt(), eos = special.get("eos_token_id").asInt(),
                pad = special.get("pad_token_id").asInt();
        JsonNode greedy = g.get("generate").get("greedy");
        JsonNode results = greedy.get("results");
        int rows = results.size(), maxLen = 0;
        for (JsonNode r : results) maxLen = Math.max(maxLen, r.get("input_ids").size());
        int[][] src = new int[rows][maxLen];
        boolean[][] valid = new boolean[rows][maxLen];
        for (int r = 0; r < rows; r++) {
            int[] ids = Fixtures.ints(results.get(r).get("input_ids"));
            java.util.Arrays.fill(src[r], pad);
            System.arraycopy(ids, 0, src[r], 0, ids.length);
            for (int j = 0; j < ids.length; j++) valid[r][j] = true;
        }
        int forcedBos = special.path("forced_bos_token_id").asInt(-1), forcedEos = special.path("forced_eos_token_id").asInt(-1);
        if (special.path("forced_bos_token_id").isNull()) forcedBos = -1;
        if (special.path("forced_eos_token_id").isNull()) forcedEos = -1;
        List<Integer> badWords = new ArrayList<>();
        for (JsonNode b : special.path("bad_words_ids")) if (b.size() == 1) badWords.add(b.get(0).asInt());
        try (Seq2Seq m = open(name, engine)) {
            LanguageModel lm = m.bind(m.encode(src, valid), 1);
            int steps = greedy.get("kwargs").get("max_new_tokens").asInt();
            int[][] got = new int[rows][steps];
            boolean[] done = new boolean[rows];
            try (DecoderSession s = lm.newSession(rows)) {
                int[][] next = new int[rows][1];
                for (int[] n : next) n[0] = start;
                for (int step = 0; step < steps; step++) {
                    float[][] logits = s.step(next, null);
                    for (int r = 0; r < rows; r++) {
                        // the generation_config processors transformers applied: forced BOS/EOS, single-token bad words
                        for (int bad : badWords) logits[r][bad] = Float.NEGATIVE_INFINITY;
                        int forced = step == 0 && forcedBos >= 0 ? forcedBos : step == steps - 1 && forcedEos >= 0 ? forcedEos : -1;
                        got[r][step] = done[r] ? pad : forced >= 0 ? forced : Fixtures.argmax(logits[r]);
                        done[r] |= got[r][step] == eos;
                        next[r][0] = got[r][step];
                    }
                }
            }
            for (int r = 0; r < rows; r++) {
                int[] exp = Fixtures.ints(results.get(r).get("new_ids"));
                assertArrayEquals(exp, java.util.Arrays.copyOf(got[r], exp.length), name + " source " + r);
            }
            assertEquals(1, m.encoderRuns(), "encoder runs once per batch of sources");
            assertEquals(1, m.crossKvComputations(), "cross-attention K/V computed once per batch of sources");
        }
    }
}
