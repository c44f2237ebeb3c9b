package dev.cortado.model.whisper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.audio.Audio;
import dev.cortado.audio.LogMel;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.Engine;
import dev.cortado.engine.EngineOptions;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Whisper on the serving engine ({@link Transcriber#viaEngine}): every transformers golden of the tiny fixture
 * (greedy, beam 3, timestamps, translate, language detection, and the 33 s long-form cases) transcribed at once on
 * concurrent threads gives the golden tokens and segments, while the engine batches them: fewer iterations than the
 * same cases one after another, and one encoder run (1500 positions) per window.
 */
class WhisperEngineTest {
    record Case(String name, JsonNode golden, Audio audio, Transcriber.Options options, boolean longForm) {}

    private static List<Case> cases() throws IOException {
        JsonNode goldens = new ObjectMapper().readTree(WhisperFixtureTest.MODEL.resolve("goldens.json").toFile());
        List<Case> out = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) goldens.get("generate")::fields)
            out.add(new Case(e.getKey(), e.getValue(), WhisperFixtureTest.caseAudio(e.getValue()), WhisperFixtureTest.caseOptions(e.getValue()), false));
        Audio lf = WhisperFixtureTest.longAudio().resampled(16000);
        for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) goldens.get("longform").get("cases")::fields) {
            JsonNode c = e.getValue(), kw = c.get("kwargs");
            out.add(new Case("longform " + e.getKey(), c, lf, new Transcriber.Options(kw.get("language").asText(),
                    kw.get("task").asText(), false, kw.path("num_beams").asInt(1), c.get("max_new_tokens").asInt()), true));
        }
        return out;
    }

    private static Transcriber engineTranscriber() {
        WhisperModel m = WhisperFamily.fromSafetensors(WhisperFixtureTest.MODEL, new CpuBackend());
        return new Transcriber(m, null, WhisperSettings.load(WhisperFixtureTest.MODEL),
                LogMel.fromPreprocessorConfig(WhisperFixtureTest.MODEL, 80)).viaEngine(EngineOptions.defaults());
    }

    private static void check(Case c, Transcript t) {
        if (c.longForm()) WhisperFixtureTest.assertSegments(c.golden().get("segments"), t, c.name());
        else WhisperFixtureTest.checkCase(c.name(), c.golden(), t);
    }

    @Test
    void concurrentTranscriptionsMatchTransformersAndShareBatches() throws Exception {
        List<Case> cases = cases();
        assertEquals(9, cases.size());
        long sequential;
        try (Transcriber tr = engineTranscriber()) {
            for (Case c : cases) check(c, tr.transcribe(c.audio(), c.options()));
            sequential = tr.engine().stats().iterations();
        }
        try (Transcriber tr = engineTranscriber(); ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Transcript>> fs = new ArrayList<>();
            for (Case c : cases) fs.add(pool.submit(() -> {
                go.await();
                return tr.transcribe(c.audio(), c.options());
            }));
            go.countDown();
            for (int i = 0; i < cases.size(); i++) check(cases.get(i), fs.get(i).get());
            Engine.Stats st = tr.engine().stats();
            System.out.println("whisper engine: " + sequential + " iterations one by one, " + st.iterations() + " concurrent; "
                    + st.encodedTokens() + " encoder positions; " + st.decodeRows() + " decode rows");
            assertTrue(st.iterations() < sequential, "concurrent transcriptions share iterations: " + st.iterations() + " vs " + sequential);
            assertEquals(0, st.encodedTokens() % 1500, "whole 30 s windows are encoded");
            assertEquals(0, st.blocksInUse(), "every KV block is back in the pool");
        }
    }
}
