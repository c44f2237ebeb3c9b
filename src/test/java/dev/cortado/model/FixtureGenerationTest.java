package dev.cortado.model;

import dev.cortado.registry.Families;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Generation on the real families against transformers' own {@code generate} (goldens in models/fixtures/*, made by
 * build_fixtures.py): greedy, beam search 4 with length penalties 0.6/1.0/2.0, early stopping, n-best with
 * sequences_scores, no-repeat-ngram, repetition penalty — through Cortado's engine and ONNX Runtime.
 */
class FixtureGenerationTest {
    static final Path ROOT = Fixtures.ROOT;
    static final List<String> DECODERS = List.of("tiny-gpt2", "tiny-llama", "tiny-llama-scaled", "tiny-qwen2", "tiny-mistral");
    static final List<String> SEQ2SEQ = List.of("tiny-t5", "tiny-flan-t5", "tiny-bart", "tiny-marian");
    static final Set<String> KEYS = Set.of("max_new_tokens", "do_sample", "num_beams", "num_return_sequences", "length_penalty",
            "early_stopping", "no_repeat_ngram_size", "repetition_penalty", "bad_words_ids", "forced_bos_token_id",
            "forced_eos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id", "renormalize_logits");

    static Stream<Arguments> cases() throws Exception {
        List<Arguments> out = new ArrayList<>();
        for (String n : concat()) {
            JsonNode gen = Fixtures.goldens(n).get("generate");
            for (var it = gen.fieldNames(); it.hasNext(); ) {
                String c = it.next();
                if (c.startsWith("greedy_batched")) continue;
                for (String e : new String[] {"cortado", "ort"}) out.add(Arguments.of(n, c, e));
            }
        }
        return out.stream();
    }

    static List<String> concat() {
        List<String> l = new ArrayList<>(DECODERS);
        l.addAll(SEQ2SEQ);
        return l;
    }



    static GenerationConfig config(JsonNode effective) {
        Map<String, Object> o = new HashMap<>();
        ObjectMapper om = new ObjectMapper();
        for (String k : KEYS) if (effective.has(k) && !effective.get(k).isNull()) o.put(k, om.convertValue(effective.get(k), Object.class));
        return GenerationConfig.defaults().withOverrides(o);
    }

    @ParameterizedTest(name = "{0} {1} via {2}")
    @MethodSource("cases")
    void tokensAndScoresEqualTransformers(String name, String kase, String engine) throws Exception {
        JsonNode g = Fixtures.goldens(name).get("generate").get(kase);
        boolean s2s = SEQ2SEQ.contains(name);
        GenerationConfig c = config(g.get("effective_generation_config")).encoderDecoder(s2s);
        for (JsonNode r : g.get("results")) {
            int[] prompt = Fixtures.ints(r.get("input_ids"));
            List<GenerationResult> got;
            if (s2s) {
                try (Seq2Seq m = Families.openSeq2Seq(ROOT.resolve(name), new CpuBackend(), Families.Engine.parse(engine))) {
                    boolean[][] valid = {new boolean[prompt.length]};
                    java.util.Arrays.fill(valid[0], true);
                    int per = c.numBeams() > 1 ? c.numBeams() : c.numReturnSequences();
                    got = new Generator(m.bind(m.encode(new int[][] {prompt}, valid), per), null, c).generateIds(new int[1][0]);
                }
            } else {
                try (LanguageModel m = Families.openDecoder(ROOT.resolve(name), new CpuBackend(), Families.Engine.parse(engine))) {
                    got = new Generator(m, null, c).generateIds(new int[][] {prompt});
                }
            }
            if (r.has("new_ids_trimmed")) {
                JsonNode exp = r.get("new_ids_trimmed");
                assertEquals(exp.size(), got.size(), "return sequences");
                for (int i = 0; i < exp.size(); i++) {
                    assertArrayEquals(Fixtures.ints(exp.get(i)), got.get(i).ids(), kase + " sequence " + i);
                    assertEquals(r.get("sequences_scores").get(i).asDouble(), got.get(i).score(), 1e-4, kase + " score " + i);
                }
            } else {
                assertArrayEquals(Fixtures.ints(r.get("new_ids")), got.getFirst().ids(), kase + " prompt " + r.get("input_ids"));
            }
        }
    }
}
