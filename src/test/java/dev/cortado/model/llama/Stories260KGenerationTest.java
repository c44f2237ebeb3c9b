package dev.cortado.model.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.EarlyStopping;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * stories260K through the shared Generator: beam search equals transformers {@code generate} on the safetensors
 * folder (goldens: src/test/resources/goldens/stories260K_beam.json from models/goldens/make_stories_beam_goldens.py),
 * and the prompted greedy text equals llama2.c's (../shared/models/stories260K/goldens.json).
 */
class Stories260KGenerationTest {
    static LanguageModel open(String engine) {
        Path dir = Shared.require("models/stories260K");
        return switch (engine) {
            case "onnx" -> Families.openDecoder(dir.resolve("onnx/model.onnx"), new CpuBackend(), Families.Engine.CORTADO);
            case "ort" -> Families.openDecoder(dir, new CpuBackend(), Families.Engine.ORT);
            default -> Families.openDecoder(dir, new CpuBackend(), Families.Engine.CORTADO);
        };
    }

    static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asInt();
        return r;
    }

    @ParameterizedTest
    @ValueSource(strings = {"safetensors", "onnx", "ort"})
    void beamSearchEqualsTransformers(String engine) throws Exception {
        JsonNode g = new ObjectMapper().readTree(getClass().getResource("/goldens/stories260K_beam.json"));
        int[] prompt = ints(g.get("provenance").get("prompt_ids"));
        try (LanguageModel m = open(engine)) {
            for (JsonNode c : g.get("cases")) {
                JsonNode k = c.get("kwargs");
                GenerationConfig cfg = GenerationConfig.defaults().maxNewTokens(k.get("max_new_tokens").asInt())
                        .numBeams(k.get("num_beams").asInt()).lengthPenalty((float) k.get("length_penalty").asDouble())
                        .earlyStopping(k.get("early_stopping").asBoolean() ? EarlyStopping.TRUE : EarlyStopping.FALSE)
                        .numReturnSequences(k.get("num_return_sequences").asInt()).eosTokenId(2).padTokenId(0)
                        .noRepeatNgramSize(k.path("no_repeat_ngram_size").asInt(0))
                        .repetitionPenalty((float) k.path("repetition_penalty").asDouble(1.0));
                List<GenerationResult> r = new Generator(m, null, cfg).generateIds(new int[][] {prompt});
                JsonNode exp = c.get("new_ids_trimmed");
                assertEquals(exp.size(), r.size());
                for (int i = 0; i < exp.size(); i++) {
                    assertArrayEquals(ints(exp.get(i)), r.get(i).ids(), k + " sequence " + i);
                    if (!c.get("sequences_scores").isNull()) {
                        assertEquals(c.get("sequences_scores").get(i).asDouble(), r.get(i).score(), 1e-4, k + " score " + i);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"safetensors", "onnx", "ort"})
    void promptedGreedyTextEqualsLlama2c(String engine) throws Exception {
        JsonNode g = new ObjectMapper().readTree(Shared.require("models/stories260K/goldens.json").toFile()).get("prompt_greedy").get(0);
        Tokenizer tok = Tokenizer.fromFile(Shared.require("models/stories260K/tokenizer.json"));
        try (LanguageModel m = open(engine)) {
            GenerationConfig cfg = GenerationConfig.greedy().maxNewTokens(g.get("max_new_tokens").asInt());
            GenerationResult r = new Generator(m, tok, cfg).generate(g.get("prompt").asText());
            assertArrayEquals(ints(g.get("new_ids")), r.ids());
            assertEquals(g.get("new_text").asText(), r.text());
        }
    }
}
