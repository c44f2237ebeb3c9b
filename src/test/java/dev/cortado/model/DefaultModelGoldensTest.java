package dev.cortado.model;

import dev.cortado.registry.Families;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Cortado's own shipped models (models/cortado-*) reproduce the trainer's goldens token for token: transformers
 * {@code generate} (beam 4 and greedy) on 20 dev inputs, written by models/train/make_goldens.py. Cortado's engine
 * runs the Optimum ONNX files it ships (weights traced from the graphs).
 */
class DefaultModelGoldensTest {
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"cortado-en-de,beam4", "cortado-en-de,greedy", "cortado-summarize-en,beam4", "cortado-summarize-en,greedy"})
    void reproducesTransformersGenerate(String model, String mode) throws Exception {
        Path dir = Path.of("models", model);
        assertTrue(Files.isDirectory(dir), "shipped model missing: " + dir);
        JsonNode g = new ObjectMapper().readTree(dir.resolve("goldens.json").toFile());
        Map<String, Object> o = new HashMap<>();
        ObjectMapper om = new ObjectMapper();
        g.get("generation").fields().forEachRemaining(e -> {
            if (e.getValue().isValueNode()) o.put(e.getKey(), om.convertValue(e.getValue(), Object.class));
        });
        g.get("generation").get(mode).fields().forEachRemaining(e -> o.put(e.getKey(), om.convertValue(e.getValue(), Object.class)));
        o.remove("note");
        GenerationConfig cfg = GenerationConfig.fromFile(dir.resolve("generation_config.json")).withOverrides(o).encoderDecoder(true);
        int per = cfg.numBeams();
        try (Seq2Seq m = Families.openSeq2Seq(dir, new CpuBackend(), Families.Engine.CORTADO)) {
            for (JsonNode c : g.get("cases")) {
                int[] src = om.convertValue(c.get("input_ids"), int[].class);
                boolean[][] valid = {new boolean[src.length]};
                java.util.Arrays.fill(valid[0], true);
                GenerationResult r = new Generator(m.bind(m.encode(new int[][] {src}, valid), per), null, cfg)
                        .generateIds(new int[1][0]).getFirst();
                int[] out = om.convertValue(c.get(mode).get("output_ids"), int[].class);
                int end = out.length;
                for (int i = 1; i < out.length; i++) if (out[i] == cfg.eosTokenIds().getFirst()) { end = i + 1; break; }
                assertArrayEquals(java.util.Arrays.copyOfRange(out, 1, end), r.ids(), model + " " + mode + " case " + c.get("index"));
            }
            assertEquals(g.get("cases").size(), m.encoderRuns());
        }
    }

    /**
     * From text, as the CLI and the library run it: Cortado's tokenizer and its truncation at tokenizer_config.json's
     * model_max_length give the same input ids as the HF fast tokenizer with truncation=True, and beam 4 then gives
     * the golden tokens (the summarizer's dev descriptions are mostly longer than its limit, so truncation is used).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"cortado-en-de", "cortado-summarize-en"})
    void textToTextThroughTheLibraryMatchesGoldens(String model) throws Exception {
        Path dir = Path.of("models", model);
        JsonNode g = new ObjectMapper().readTree(dir.resolve("goldens.json").toFile());
        ObjectMapper om = new ObjectMapper();
        dev.cortado.tokenizer.Tokenizer tok = dev.cortado.tokenizer.Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        Integer limit = dev.cortado.tokenizer.TokenizerConfig.load(dir.resolve("tokenizer_config.json")).modelMaxLength();
        java.util.List<String> sources = new java.util.ArrayList<>();
        int truncated = 0;
        for (JsonNode c : g.get("cases")) {
            String src = c.get("source").asText();
            int[] ids = tok.encode(src, true).ids();
            if (ids.length > limit) truncated++;
            sources.add(src);
        }
        try (dev.cortado.runtime.Cortado m = dev.cortado.runtime.Cortado.open(dir)) {
            java.util.List<GenerationResult> rs = m.translate(sources, m.generationConfig());
            for (int i = 0; i < sources.size(); i++) {
                int[] out = om.convertValue(g.get("cases").get(i).get("beam4").get("output_ids"), int[].class);
                int end = out.length;
                for (int k = 1; k < out.length; k++) if (out[k] == 1) { end = k + 1; break; }
                assertArrayEquals(java.util.Arrays.copyOfRange(out, 1, end), rs.get(i).ids(), model + " case " + i);
            }
        }
        if (model.contains("summarize")) assertTrue(truncated > 0, "no golden source exercises truncation");
    }
}
