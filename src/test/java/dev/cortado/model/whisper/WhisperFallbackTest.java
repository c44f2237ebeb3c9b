package dev.cortado.model.whisper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.audio.LogMel;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.testing.Fixtures;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Temperature fallback vs transformers (tiny-whisper/fallback.json, build_fallback.py): for each greedy golden call,
 * the compression ratio and average log-probability that transformers' _need_fallback compares with its thresholds
 * are computed alike (ratio exactly, log-probability within 1e-4); with thresholds the attempt meets, the greedy
 * tokens are kept (as transformers' own fallback loop keeps them); with a log-prob threshold just above the attempt's,
 * the window is decoded again at a higher temperature (sampled tokens are not compared: seeds differ). The no-speech
 * probability matches WhisperNoSpeechDetection's (relative 1e-3), and with both thresholds saying "silence" the window
 * is skipped, as transformers' loop skips it (no tokens).
 */
class WhisperFallbackTest {
    @Test
    void fallbackMeasuresAndDecisionsMatchTransformers() throws IOException {
        JsonNode golden = new ObjectMapper().readTree(WhisperFixtureTest.MODEL.resolve("fallback.json").toFile());
        double[] schedule = new double[golden.get("temperatures").size()];
        for (int i = 0; i < schedule.length; i++) schedule[i] = golden.get("temperatures").get(i).asDouble();
        try (WhisperModel m = WhisperFamily.fromSafetensors(WhisperFixtureTest.MODEL, new CpuBackend())) {
            Transcriber tr = new Transcriber(m, null, WhisperSettings.load(WhisperFixtureTest.MODEL), LogMel.fromPreprocessorConfig(WhisperFixtureTest.MODEL, 80));
            int checked = 0;
            for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) golden.get("cases")::fields) {
                String name = e.getKey();
                JsonNode c = e.getValue();
                int[] seek = Fixtures.ints(c.get("seek_sequence"));
                double ratio = c.get("compression_ratio").asDouble(), avg = c.get("avg_logprob").asDouble();
                assertEquals(ratio, Fallback.compressionRatio(seek, 51865), 1e-12, name + ": compression ratio of the golden tokens");
                int[] kept = seek[seek.length - 1] == 50257 ? Arrays.copyOf(seek, seek.length - 1) : seek;

                Transcriber.Options o = WhisperFixtureTest.caseOptions(c);
                Transcript plain = tr.transcribe(WhisperFixtureTest.caseAudio(c), o);
                assertArrayEquals(kept, plain.tokens(), name);
                for (Transcript.Segment s : plain.segments()) {
                    assertEquals(ratio, s.compressionRatio(), 1e-12, name);
                    assertEquals(avg, s.avgLogprob(), 1e-4, name + ": average log-probability");
                    assertEquals(0.0, s.temperature(), name);
                }
                Transcript passes = tr.transcribe(WhisperFixtureTest.caseAudio(c), o.withFallback(new Fallback(schedule, ratio + 1e-3, avg - 1e-3)));
                assertArrayEquals(kept, passes.tokens(), name + ": thresholds met, the greedy attempt is kept");
                assertEquals(0.0, passes.segments().getFirst().temperature(), name);

                assertTrue(c.get("fallback_taken").asBoolean(), name + ": transformers fell back");
                Transcript fails = tr.transcribe(WhisperFixtureTest.caseAudio(c), o.withFallback(new Fallback(schedule, ratio + 1e-3, avg + 1e-3)));
                double t = fails.segments().getFirst().temperature();
                assertTrue(t >= schedule[1], name + ": decoded again at a higher temperature, kept " + t);

                double p = c.get("no_speech_prob").asDouble();
                Transcript measured = tr.transcribe(WhisperFixtureTest.caseAudio(c), o.withFallback(new Fallback(schedule, ratio + 1e-3, avg - 1e-3, 0.5)));
                double got = measured.segments().getFirst().noSpeechProb();
                assertEquals(p, got, p * 1e-3, name + ": no-speech probability");
                assertArrayEquals(kept, measured.tokens(), name + ": not silent (0.5 threshold), greedy kept");
                Transcript skipped = tr.transcribe(WhisperFixtureTest.caseAudio(c), o.withFallback(new Fallback(schedule, ratio + 1e-3, avg + 1e-3, p * 0.999)));
                assertArrayEquals(Fixtures.ints(c.get("skipped_tokens")), skipped.tokens(), name + ": transformers skips the window");
                assertEquals(0, skipped.segments().size(), name);
                checked++;
            }
            assertEquals(4, checked);
        }
    }
}
