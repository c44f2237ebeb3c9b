package dev.cortado.model.whisper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.audio.Audio;
import dev.cortado.audio.LogMel;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.DecoderSession;
import dev.cortado.testing.Fixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tiny random Whisper fixture (models/fixtures/whisper/build_whisper.py) vs transformers 5.18: encoder output and
 * the forced prompt's logits within 1e-4 (on transformers' own features), and WhisperForConditionalGeneration.generate
 * token ids and segments identical (end to end from the WAV files: Cortado's reader, resampler and log-mel).
 */
class WhisperFixtureTest {
    static final Path DIR = Path.of("models/fixtures/whisper");
    static final Path MODEL = DIR.resolve("tiny-whisper");
    static WhisperModel model;
    static JsonNode goldens;

    @BeforeAll
    static void open() throws IOException {
        model = WhisperFamily.fromSafetensors(MODEL, new CpuBackend());
        goldens = new ObjectMapper().readTree(MODEL.resolve("goldens.json").toFile());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** transformers' features of hello.wav: the stored frames, then the constant floor of the zero padding. */
    static float[][] hfFeatures() throws IOException {
        JsonNode f = new ObjectMapper().readTree(DIR.resolve("frontend.json").toFile()).get("features").get(0);
        assertEquals("features_hello_80.f32", f.get("file").asText());
        int stored = f.get("stored_frames").asInt();
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(DIR.resolve(f.get("file").asText()))).order(ByteOrder.LITTLE_ENDIAN);
        float[][] out = new float[80][3000];
        for (int m = 0; m < 80; m++) {
            for (int t = 0; t < stored; t++) out[m][t] = b.getFloat();
            for (int t = stored; t < 3000; t++) out[m][t] = (float) f.get("tail_values").get(1).get(m).asDouble();
        }
        return out;
    }

    @Test
    void encoderAndPromptLogitsWithin1e4() throws IOException {
        checkPromptLogits(model);
    }

    @Test
    void generateMatchesTransformers() {
        checkGenerate(model);
    }

    /**
     * The Optimum ONNX layout (built by build_whisper.py into tiny-whisper-onnx/, committed so CI runs it: 3.5 MB), traced to
     * the same weights: same logits bound and the same generate goldens. Skips when the export is absent.
     */
    @Test
    void onnxLayoutMatchesTransformers() throws IOException {
        Path onnx = DIR.resolve("tiny-whisper-onnx");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(onnx.resolve("decoder_model.onnx")),
                "tiny-whisper-onnx absent (build it with models/fixtures/whisper/build_whisper.py onnx): skipping");
        try (WhisperModel m = WhisperFamily.open(onnx, new CpuBackend())) {
            assertTrue(m.describe().contains("onnx"), m.describe());
            checkPromptLogits(m);
            checkGenerate(m);
        }
    }

    /** The API on raw 16 kHz samples: Transcriber.open (tokenizer from ../shared) gives the timestamp golden and its text. */
    @Test
    void openTranscriberOnRawSamples() {
        Path tok = dev.cortado.testing.Shared.require("models/tokenizers/whisper-tiny/tokenizer.json");
        float[] pcm16k = Audio.read(DIR.resolve("audio/hello.wav")).resampled(16000).samples();
        JsonNode g = goldens.get("generate").get("en_timestamps_greedy").get("segments").get(0);
        try (Transcriber t = Transcriber.open(MODEL, dev.cortado.device.Device.cpu(), tok)) {
            Transcript r = t.transcribe(new Audio(pcm16k, 16000), new Transcriber.Options("en", "transcribe", true, 1, 24));
            assertArrayEquals(Fixtures.ints(g.get("tokens")), r.segments().getFirst().tokens());
            assertEquals(g.get("text").asText(), r.segments().getFirst().text());
            assertEquals("en", r.language());
        }
    }

    static void checkPromptLogits(WhisperModel model) throws IOException {
        JsonNode fw = goldens.get("forward");
        var enc = model.encodeFeatures(new float[][][] {hfFeatures()});
        ByteBuffer hb = ByteBuffer.wrap(Files.readAllBytes(MODEL.resolve(fw.get("encoder_hidden_file").asText()))).order(ByteOrder.LITTLE_ENDIAN);
        int[] prompt = Fixtures.ints(fw.get("decoder_input_ids"));
        double worst = 0;
        try (DecoderSession s = model.bind(enc, 1).newSession(1)) {
            for (int p = 0; p < prompt.length; p++) {
                float[] logits = s.step(new int[][] {{prompt[p]}}, null)[0];
                JsonNode ids = fw.get("ids"), want = fw.get("logits").get(p);
                for (int i = 0; i < ids.size(); i++) worst = Math.max(worst, Math.abs(want.get(i).asDouble() - logits[ids.get(i).asInt()]));
                JsonNode top = fw.get("top20_ids").get(p), topv = fw.get("top20_logits").get(p);
                for (int i = 0; i < top.size(); i++) worst = Math.max(worst, Math.abs(topv.get(i).asDouble() - logits[top.get(i).asInt()]));
                assertEquals(top.get(0).asInt(), Fixtures.argmax(logits), "argmax at prompt position " + p);
            }
        }
        System.out.println("whisper prompt logits max |Δ| vs transformers: " + worst);
        assertTrue(worst <= 1e-4, "logits max |Δ| " + worst);
        float[] hidden = model.encoderOutput(new float[][][] {hfFeatures()});
        assertEquals(1500 * 8, hidden.length);
        double worstHidden = 0;
        for (float v : hidden) worstHidden = Math.max(worstHidden, Math.abs(hb.getFloat() - v));
        System.out.println("whisper encoder output max |Δ| vs transformers: " + worstHidden);
        assertTrue(worstHidden <= 1e-4, "encoder output max |Δ| " + worstHidden);
    }

    static void checkGenerate(WhisperModel model) {
        LogMel frontend = LogMel.fromPreprocessorConfig(MODEL, 80);
        Transcriber tr = new Transcriber(model, null, WhisperSettings.load(MODEL), frontend);
        int checked = 0;
        for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) goldens.get("generate")::fields) {
            checkCase(e.getKey(), e.getValue(), tr.transcribe(caseAudio(e.getValue()), caseOptions(e.getValue())));
            checked++;
        }
        assertEquals(7, checked);
    }

    static Audio caseAudio(JsonNode c) {
        return Audio.read(DIR.resolve("audio").resolve(c.get("wav").asText()));
    }

    /** A generate golden's kwargs as transcriber options. */
    static Transcriber.Options caseOptions(JsonNode c) {
        JsonNode kw = c.get("kwargs");
        return new Transcriber.Options(kw.hasNonNull("language") ? kw.get("language").asText() : null, kw.get("task").asText(),
                kw.path("return_timestamps").asBoolean(false), kw.path("num_beams").asInt(1), c.get("max_new_tokens").asInt());
    }

    /** A transcript equals a generate golden: segments, or the whole sequence (decoder prompt included). */
    static void checkCase(String name, JsonNode c, Transcript t) {
        JsonNode kw = c.get("kwargs");
        if (c.has("segments")) {
            assertSegments(c.get("segments"), t, name);
            return;
        }
        int[] want = Fixtures.ints(c.get("sequence"));
        if (want[want.length - 1] == 50257) want = java.util.Arrays.copyOf(want, want.length - 1); // Transcript drops EOS
        List<Integer> got = new ArrayList<>();
        got.add(50258);
        int lang = WhisperSettings.load(MODEL).languageId(t.language());
        got.add(lang);
        got.add(kw.get("task").asText().equals("translate") ? 50358 : 50359);
        got.add(50363);
        for (int id : t.tokens()) got.add(id);
        assertArrayEquals(want, got.stream().mapToInt(Integer::intValue).toArray(), name);
    }

    /** The long-form recipe of build_whisper.py: [hello, 1 s silence, german, 1 s silence] × 4 at 22050 Hz. */
    static Audio longAudio() {
        Audio h = Audio.read(DIR.resolve("audio/hello.wav")), g = Audio.read(DIR.resolve("audio/german.wav"));
        int sr = h.sampleRate(), n = 4 * (h.samples().length + g.samples().length + 2 * sr);
        float[] x = new float[n];
        int p = 0;
        for (int k = 0; k < 4; k++) {
            System.arraycopy(h.samples(), 0, x, p, h.samples().length);
            p += h.samples().length + sr;
            System.arraycopy(g.samples(), 0, x, p, g.samples().length);
            p += g.samples().length + sr;
        }
        return new Audio(x, sr);
    }

    @Test
    void longFormSegmentsMatchTransformers() {
        JsonNode lf = goldens.get("longform");
        Audio a = longAudio().resampled(16000);
        assertEquals(lf.get("samples_16k").asInt(), a.samples().length);
        Transcriber tr = new Transcriber(model, null, WhisperSettings.load(MODEL), LogMel.fromPreprocessorConfig(MODEL, 80));
        for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) lf.get("cases")::fields) {
            JsonNode c = e.getValue(), kw = c.get("kwargs");
            List<Double> progress = new ArrayList<>();
            Transcript t = tr.transcribe(a, new Transcriber.Options(kw.get("language").asText(), kw.get("task").asText(), false,
                    kw.path("num_beams").asInt(1), c.get("max_new_tokens").asInt()), progress::add);
            assertSegments(c.get("segments"), t, e.getKey());
            assertEquals(1.0, progress.getLast(), 1e-9);
        }
    }

    /** Segments equal the transformers golden: tokens exactly, start/end times to 1e-6. */
    static void assertSegments(JsonNode segs, Transcript t, String what) {
        assertEquals(segs.size(), t.segments().size(), what + ": segment count");
        for (int i = 0; i < segs.size(); i++) {
            var s = t.segments().get(i);
            assertArrayEquals(Fixtures.ints(segs.get(i).get("tokens")), s.tokens(), what + " segment " + i);
            assertEquals(segs.get(i).get("start").asDouble(), s.start(), 1e-6, what + " start " + i);
            assertEquals(segs.get(i).get("end").asDouble(), s.end(), 1e-6, what + " end " + i);
        }
    }
}
