package dev.cortado.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import dev.cortado.model.bart.BartFamily;
import dev.cortado.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An Optimum folder with only decoder_model_merged.onnx (models/fixtures/tiny-bart-merged, built from tiny-bart's
 * decoder_model.onnx + decoder_with_past_model.onnx by make_merged.py, Optimum's merge_decoders layout, checked
 * there with onnxruntime) is traced from the merged model's no-past branch: greedy steps give the tokens of
 * transformers (tiny-bart's goldens) and logits bit-identical to the decoder_model.onnx path.
 */
class MergedDecoderTest {
    static final Path BART = Fixtures.ROOT.resolve("tiny-bart"), MERGED = Fixtures.ROOT.resolve("tiny-bart-merged");

    /** Per golden case: the logits of each greedy step, teacher-forced on transformers' tokens. */
    static List<float[]> steps(Path dir) {
        JsonNode g = Fixtures.goldens("tiny-bart");
        int start = g.get("special_ids").get("decoder_start_token_id").asInt();
        List<float[]> out = new ArrayList<>();
        try (Seq2Seq m = BartFamily.fromOnnx(dir, new CpuBackend())) {
            for (JsonNode c : g.get("step_logits").get("cases")) {
                int[] src = Fixtures.ints(c.get("input_ids")), tokens = Fixtures.ints(c.get("tokens"));
                boolean[][] valid = {new boolean[src.length]};
                java.util.Arrays.fill(valid[0], true);
                LanguageModel lm = m.bind(m.encode(new int[][] {src}, valid), 1);
                try (DecoderSession s = lm.newSession(1)) {
                    float[] logits = s.step(new int[][] {{start}}, null)[0];
                    for (int step = 0; step < tokens.length; step++) {
                        assertEquals(tokens[step], Fixtures.argmax(logits), dir.getFileName() + " step " + step);
                        out.add(logits);
                        logits = s.step(new int[][] {{tokens[step]}}, null)[0];
                    }
                }
            }
        }
        return out;
    }

    @Test
    void mergedDecoderGivesTheTokensAndLogitsOfDecoderModel() {
        assertFalse(Files.exists(MERGED.resolve("decoder_model.onnx")), "the fixture has only the merged decoder");
        List<float[]> plain = steps(BART), merged = steps(MERGED);
        assertEquals(plain.size(), merged.size());
        for (int i = 0; i < plain.size(); i++) assertArrayEquals(plain.get(i), merged.get(i), "step " + i);
    }
}
