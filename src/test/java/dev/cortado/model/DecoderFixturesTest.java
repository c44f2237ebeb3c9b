package dev.cortado.model;

import dev.cortado.registry.Families;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import java.nio.file.Files;
import dev.cortado.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Tiny decoder fixtures built by models/fixtures/build_fixtures.py with Hugging Face transformers; goldens are
 * transformers' own raw logits and greedy ids. Each fixture runs from safetensors and from its ONNX export through
 * Cortado's engine, and through ONNX Runtime.
 */
class DecoderFixturesTest {
    static final Path ROOT = Fixtures.ROOT;
    static final String[] NAMES = {"tiny-gpt2", "tiny-llama", "tiny-llama-scaled", "tiny-qwen2", "tiny-mistral"};

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String n : NAMES) for (String src : new String[] {"safetensors", "onnx", "ort"}) out.add(Arguments.of(n, src));
        return out.stream();
    }

    static LanguageModel open(String name, String source) {
        Path dir = ROOT.resolve(name);
        return switch (source) {
            case "safetensors" -> Families.openDecoder(dir, new CpuBackend(), Families.Engine.CORTADO);
            case "onnx" -> Families.openDecoder(dir.resolve("model.onnx"), new CpuBackend(), Families.Engine.CORTADO);
            default -> Families.openDecoder(dir, new CpuBackend(), Families.Engine.ORT);
        };
    }




    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("cases")
    void stepLogitsWithin1e4OfTransformers(String name, String source) throws Exception {
        assertTrue(Files.isDirectory(ROOT.resolve(name)), "fixture missing: " + ROOT.resolve(name));
        JsonNode g = Fixtures.goldens(name);
        try (LanguageModel m = open(name, source)) {
            double worst = 0;
            for (JsonNode c : g.get("step_logits").get("cases")) {
                int[] prompt = Fixtures.ints(c.get("input_ids")), tokens = Fixtures.ints(c.get("tokens"));
                try (DecoderSession s = m.newSession(1)) {
                    float[] logits = s.step(new int[][] {prompt}, null)[0];
                    for (int step = 0; step < tokens.length; step++) {
                        JsonNode ref = c.get("logits").get(step);
                        for (int i = 0; i < logits.length; i++) {
                            double r = ref.get(i).asDouble();
                            // goldens are rounded to 6 significant digits
                            worst = Math.max(worst, Math.abs(logits[i] - r) - Math.abs(r) * 5e-6);
                        }
                        assertTrue(Fixtures.argmax(logits) == tokens[step], name + " step " + step);
                        logits = s.step(new int[][] {{tokens[step]}}, null)[0];
                    }
                }
            }
            assertTrue(worst <= 1e-4, name + " via " + source + ": max abs logits diff " + worst);
        }
    }

    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("cases")
    void batchedLeftPaddedGreedyEqualsTransformers(String name, String source) throws Exception {
        JsonNode b = Fixtures.goldens(name).get("generate").get("greedy_batched_left_padded");
        JsonNode ids = b.get("input_ids"), mask = b.get("attention_mask");
        int rows = ids.size(), n = ids.get(0).size();
        int[][] tok = new int[rows][];
        boolean[][] valid = new boolean[rows][n];
        for (int r = 0; r < rows; r++) {
            tok[r] = Fixtures.ints(ids.get(r));
            for (int j = 0; j < n; j++) valid[r][j] = mask.get(r).get(j).asInt() == 1;
        }
        JsonNode special = Fixtures.goldens(name).get("special_ids");
        int eos = special.get("eos_token_id").asInt(), pad = special.get("pad_token_id_used_for_goldens").asInt();
        JsonNode expectedRows = b.get("rows");
        int steps = expectedRows.get(0).get("new_ids").size();
        try (LanguageModel m = open(name, source); DecoderSession s = m.newSession(rows)) {
            float[][] logits = s.step(tok, valid);
            int[][] got = new int[rows][steps];
            boolean[] done = new boolean[rows];
            for (int step = 0; step < steps; step++) {
                int[][] next = new int[rows][1];
                for (int r = 0; r < rows; r++) {
                    got[r][step] = done[r] ? pad : Fixtures.argmax(logits[r]);
                    done[r] |= got[r][step] == eos;
                    next[r][0] = got[r][step];
                }
                logits = s.step(next, null);
            }
            for (int r = 0; r < rows; r++) assertArrayEquals(Fixtures.ints(expectedRows.get(r).get("new_ids")), got[r], name + " row " + r);
        }
    }
}
