package dev.cortado.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Cortado's generation against Hugging Face transformers 5.18 {@code generate} on the same table model
 * (goldens from models/fixtures/generation/make_generation_goldens.py): tokens identical, beam sequences_scores and
 * processed score vectors within 1e-5.
 */
class GoldenGenerationTest {
    static final JsonNode ROOT = TableModel.goldens();
    static final TableModel MODEL = new TableModel(ROOT);

    static GenerationConfig config(JsonNode c) {
        Map<String, Object> o = new ObjectMapper().convertValue(c, LinkedHashMap.class);
        Object bias = o.remove("sequence_bias");
        if (bias != null) {
            Map<String, Object> lb = new LinkedHashMap<>();
            for (Object pair : (List<?>) bias) {
                List<?> p = (List<?>) pair;
                List<?> ids = (List<?>) p.get(0);
                assertEquals(1, ids.size(), "only single-token biases are logit_bias");
                lb.put(ids.get(0).toString(), p.get(1));
            }
            o.put("logit_bias", lb);
        }
        return GenerationConfig.defaults().withOverrides(o);
    }

    static int[][] prompts(JsonNode c) {
        int[][] p = new int[c.get("prompts").size()][];
        for (int i = 0; i < p.length; i++) p[i] = TableModel.ints(c.get("prompts").get(i));
        return p;
    }

    /** HF's row cut after the first EOS (HF pads finished rows). */
    static int[] trimmed(int[] row, List<Integer> eos) {
        for (int i = 0; i < row.length; i++) if (eos.contains(row[i])) return Arrays.copyOf(row, i + 1);
        return row;
    }

    static Stream<JsonNode> cases(java.util.function.Predicate<JsonNode> p) {
        List<JsonNode> out = new ArrayList<>();
        ROOT.get("cases").forEach(out::add);
        return out.stream().filter(p);
    }

    @Test
    void provenanceIsRecorded() {
        JsonNode prov = ROOT.get("provenance");
        assertTrue(prov.get("transformers").asText().startsWith("5."), prov.toString());
        assertTrue(prov.get("torch").asText().length() > 0);
    }

    /** Greedy and beam cases: the same tokens (and beam scores) as transformers. */
    @TestFactory
    Stream<DynamicTest> tokensMatchTransformers() {
        return cases(c -> !c.get("config").path("do_sample").asBoolean(false)).map(c -> DynamicTest.dynamicTest(
                c.get("name").asText(), () -> {
                    GenerationConfig cfg = config(c.get("config"));
                    List<GenerationResult> got = new Generator(MODEL, null, cfg).generateIds(prompts(c));
                    JsonNode want = c.get("generated");
                    assertEquals(want.size(), got.size(), "number of sequences");
                    for (int i = 0; i < got.size(); i++) {
                        int[] w = trimmed(TableModel.ints(want.get(i)), cfg.eosTokenIds());
                        assertArrayEquals(w, got.get(i).ids(), "sequence " + i + ": want " + TableModel.str(w)
                                + " got " + TableModel.str(got.get(i).ids()));
                        FinishReason reason = cfg.eosTokenIds().contains(w[w.length - 1]) ? FinishReason.EOS
                                : FinishReason.LENGTH;
                        assertEquals(reason, got.get(i).finishReason(), "finish reason " + i);
                        if (c.has("sequences_scores"))
                            assertEquals(c.get("sequences_scores").get(i).floatValue(), got.get(i).score(), 1e-5,
                                    "sequences_scores " + i);
                    }
                }));
    }

    /** The Java table model gives the raw logits transformers recorded. */
    @TestFactory
    Stream<DynamicTest> rawLogitsMatch() {
        return cases(c -> c.has("logits") && c.get("prompts").size() == 1).map(c -> DynamicTest.dynamicTest(
                c.get("name").asText(), () -> {
                    int[] prompt = TableModel.ints(c.get("prompts").get(0));
                    int[] gen = TableModel.ints(c.get("generated").get(0));
                    try (DecoderSession s = MODEL.newSession(1)) {
                        float[] logits = s.step(new int[][] {prompt}, null)[0];
                        for (int step = 0; step < c.get("logits").size(); step++) {
                            float[] want = TableModel.floats(c.get("logits").get(step).get(0));
                            for (int v = 0; v < want.length; v++)
                                assertEquals(want[v], logits[v], 1e-5, "step " + step + " token " + v);
                            logits = s.step(new int[][] {{gen[step]}}, null)[0];
                        }
                    }
                }));
    }

    /**
     * Teacher forcing: with transformers' own history (left-padded prompt + its tokens) and raw logits, Cortado's
     * processor chain gives transformers' processed scores (processors, and warpers for sampling cases).
     */
    @TestFactory
    Stream<DynamicTest> processedScoresMatch() {
        return cases(c -> c.has("scores")).map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> {
            GenerationConfig cfg = config(c.get("config"));
            LogitsProcessorChain chain = LogitsProcessorChain.of(cfg);
            int[][] prompts = prompts(c);
            int width = Arrays.stream(prompts).mapToInt(p -> p.length).max().orElseThrow();
            int maxLength = cfg.maxNewTokens() != null ? width + cfg.maxNewTokens() : cfg.maxLength();
            for (int r = 0; r < prompts.length; r++) {
                int[] padded = new int[width];
                System.arraycopy(prompts[r], 0, padded, width - prompts[r].length, prompts[r].length);
                TokenHistory h = new TokenHistory(padded, maxLength);
                int[] gen = TableModel.ints(c.get("generated").get(r));
                for (int step = 0; step < c.get("scores").size(); step++) {
                    float[] scores = TableModel.floats(c.get("logits").get(step).get(r));
                    chain.process(h, scores);
                    float[] want = TableModel.floats(c.get("scores").get(step).get(r));
                    for (int v = 0; v < want.length; v++) {
                        String where = "row " + r + " step " + step + " token " + v;
                        if (Float.isInfinite(want[v]) || Float.isInfinite(scores[v])) assertEquals(want[v], scores[v], where);
                        else assertEquals(want[v], scores[v], 1e-5, where);
                    }
                    h.append(gen[step]);
                }
            }
        }));
    }

    /** Left-padded batches give what each prompt gives alone (greedy and beam). */
    @TestFactory
    Stream<DynamicTest> batchEqualsOneByOne() {
        return cases(c -> c.get("prompts").size() > 1 && !c.get("config").path("do_sample").asBoolean(false))
                .map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> {
                    GenerationConfig cfg = config(c.get("config"));
                    Generator g = new Generator(MODEL, null, cfg);
                    int[][] prompts = prompts(c);
                    List<GenerationResult> batch = g.generateIds(prompts);
                    int n = cfg.numReturnSequences();
                    for (int i = 0; i < prompts.length; i++) {
                        List<GenerationResult> alone = g.generateIds(new int[][] {prompts[i]});
                        for (int j = 0; j < n; j++) {
                            assertArrayEquals(alone.get(j).ids(), batch.get(i * n + j).ids(), "prompt " + i);
                            assertEquals(alone.get(j).score(), batch.get(i * n + j).score(), 1e-6);
                        }
                    }
                }));
    }

    @Test
    void everyGoldenCaseIsExercised() {
        int n = 0;
        for (JsonNode c : ROOT.get("cases")) {
            if (!c.has("generated")) fail(c.get("name").asText());
            n++;
        }
        assertTrue(n >= 30, "cases: " + n);
    }
}
