package dev.cortado.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.DecoderModel;
import dev.cortado.generate.DecoderSession;
import dev.cortado.registry.GgufModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * GGUF models (written by models/fixtures/gguf/build_gguf.py with gguf-py) run by Cortado's families against Hugging
 * Face transformers loading the same GGUF (goldens.json): greedy tokens identical, raw logits of every step within 1e-3.
 */
class GgufModelTest {
    static final Path DIR = Path.of("models/fixtures/gguf");

    static Stream<String> files() throws Exception {
        List<String> names = new ArrayList<>();
        goldens().get("models").fieldNames().forEachRemaining(names::add);
        return names.stream();
    }

    static JsonNode goldens() throws Exception {
        return new ObjectMapper().readTree(DIR.resolve("goldens.json").toFile());
    }

    @ParameterizedTest
    @MethodSource("files")
    void greedyAndLogitsMatchTransformers(String file) throws Exception {
        JsonNode g = goldens().get("models").get(file);
        try (DecoderModel m = GgufModels.open(DIR.resolve(file), new CpuBackend())) {
            assertTrue(m.describe().contains("gguf"), m.describe());
            for (JsonNode c : g.get("cases")) {
                int[] prompt = new ObjectMapper().convertValue(c.get("prompt"), int[].class);
                int[] greedy = new ObjectMapper().convertValue(c.get("greedy"), int[].class);
                int[] got = new int[greedy.length];
                double maxDiff = 0;
                try (DecoderSession s = m.newSession(1)) {
                    int[] feed = prompt;
                    for (int i = 0; i < greedy.length; i++) {
                        float[] logits = s.step(new int[][] {feed}, null)[0];
                        JsonNode want = c.get("step_logits").get(i);
                        assertEquals(want.size(), logits.length);
                        for (int v = 0; v < logits.length; v++) maxDiff = Math.max(maxDiff, Math.abs(logits[v] - want.get(v).asDouble()));
                        got[i] = argmax(logits);
                        feed = new int[] {greedy[i]}; // teacher-forced on the reference's tokens, so a step's logits stay comparable
                    }
                }
                assertArrayEquals(greedy, got, file + " prompt " + c.get("prompt"));
                System.out.println(file + ": max |logit − transformers| = " + maxDiff);
                assertTrue(maxDiff < 1e-3, file + ": max |logit − transformers| = " + maxDiff);
            }
        }
    }

    /** The same weights under architecture "mistral" (its keys renamed) run the same: one family, keys by architecture. */
    @org.junit.jupiter.api.Test
    void mistralArchitectureReadsItsOwnKeys(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path p = tmp.resolve("mistral.gguf");
        try (GgufFile f = GgufFile.open(DIR.resolve("stories260K-q8_0.gguf"))) {
            java.nio.file.Files.write(p, GgufTestWriter.rewrite(f, m -> {
                java.util.Map<String, Object> copy = new java.util.LinkedHashMap<>(m);
                m.clear();
                copy.forEach((k, v) -> m.put(k.startsWith("llama.") ? "mistral." + k.substring(6) : k, v));
                m.put("general.architecture", "mistral");
            }, t -> {}));
        }
        JsonNode c = goldens().get("models").get("stories260K-q8_0.gguf").get("cases").get(1);
        int[] prompt = new ObjectMapper().convertValue(c.get("prompt"), int[].class);
        try (DecoderModel m = GgufModels.open(p, new CpuBackend()); DecoderSession s = m.newSession(1)) {
            assertTrue(m.describe().startsWith("llama (mistral, gguf)"), m.describe());
            assertEquals(c.get("greedy").get(0).asInt(), argmax(s.step(new int[][] {prompt}, null)[0]));
        }
    }

    static int argmax(float[] a) {
        int b = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
        return b;
    }
}
