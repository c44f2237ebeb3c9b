package dev.cortado.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.models.audio.AudioResponseFormat;
import com.openai.models.audio.transcriptions.TranscriptionCreateParams;
import com.openai.models.audio.transcriptions.TranscriptionCreateResponse;
import com.openai.models.audio.transcriptions.TranscriptionSegment;
import com.openai.models.audio.transcriptions.TranscriptionVerbose;
import dev.cortado.audio.Audio;
import dev.cortado.device.Device;
import dev.cortado.model.whisper.Transcriber;
import dev.cortado.model.whisper.Transcript;
import dev.cortado.server.OpenAiServer;
import dev.cortado.testing.Shared;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /v1/audio/transcriptions} and {@code /v1/audio/translations} of {@code cortado serve}, over loopback with
 * the JDK HttpClient (a multipart body built here) and the official OpenAI Java client, against {@link Transcriber}
 * run directly on the same WAV and folder: identical text, segments (tokens, start, end) and language; concurrent
 * uploads batched by the model's engine give the same; bad uploads get one-line OpenAI-shaped errors.
 */
class ServeAudioTest {
    static final Path WAVS = Path.of("models/fixtures/whisper/audio");
    static final ObjectMapper M = new ObjectMapper();
    @TempDir static Path tmp;
    static Path whisper;
    static OpenAiServer server;
    static Transcriber direct;
    static final HttpClient http = HttpClient.newHttpClient();

    /** The tiny Whisper fixture with the real whisper-tiny tokenizer.json (from ../shared) in a folder of its own. */
    static Path whisperFolder(Path tmp) throws IOException {
        Path tok = Shared.require("models/tokenizers/whisper-tiny/tokenizer.json");
        Path src = Path.of("models/fixtures/whisper/tiny-whisper"), dir = Files.createDirectories(tmp.resolve("tiny-whisper"));
        for (String f : new String[] {"config.json", "generation_config.json", "preprocessor_config.json", "model.safetensors"})
            Files.copy(src.resolve(f), dir.resolve(f));
        Files.copy(tok, dir.resolve("tokenizer.json"));
        return dir;
    }

    @BeforeAll
    static void start() throws Exception {
        whisper = whisperFolder(tmp);
        server = ServeFixture.start(ServeFixture.loopback(), whisper, ServeFixture.stories());
        direct = Transcriber.open(whisper, Device.cpu(), null);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (direct != null) direct.close();
    }

    record Part(String name, String fileName, byte[] bytes) {
        static Part field(String name, String value) {
            return new Part(name, null, value.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** An RFC 7578 body, as browsers and curl -F send it. */
    static HttpRequest multipart(String path, List<Part> parts) throws IOException {
        String boundary = "----cortado" + Long.toHexString(System.nanoTime());
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (Part p : parts) {
            b.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name() + "\""
                    + (p.fileName() == null ? "" : "; filename=\"" + p.fileName() + "\"\r\nContent-Type: application/octet-stream")
                    + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            b.write(p.bytes());
            b.write("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        b.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return HttpRequest.newBuilder(URI.create(server.url() + path)).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(b.toByteArray())).build();
    }

    static HttpResponse<String> post(String path, List<Part> parts) throws Exception {
        return http.send(multipart(path, parts), HttpResponse.BodyHandlers.ofString());
    }

    static List<Part> upload(String wav, String... fields) throws IOException {
        List<Part> parts = new ArrayList<>();
        parts.add(new Part("file", wav, Files.readAllBytes(WAVS.resolve(wav))));
        for (int i = 0; i < fields.length; i += 2) parts.add(Part.field(fields[i], fields[i + 1]));
        return parts;
    }

    static Transcript direct(String wav, String language, String task, boolean timestamps) {
        return direct.transcribe(Audio.read(WAVS.resolve(wav)), new Transcriber.Options(language, task, timestamps, 1, null));
    }

    static void assertSameSegments(Transcript want, JsonNode segments) {
        assertEquals(want.segments().size(), segments.size(), segments.toString());
        for (int i = 0; i < segments.size(); i++) {
            Transcript.Segment s = want.segments().get(i);
            JsonNode g = segments.get(i);
            assertEquals(i, g.get("id").asInt());
            assertEquals(s.text(), g.get("text").asText());
            int[] toks = new int[g.get("tokens").size()];
            for (int j = 0; j < toks.length; j++) toks[j] = g.get("tokens").get(j).asInt();
            assertArrayEquals(s.tokens(), toks, "segment " + i);
            assertEquals(Math.round(s.start() * 100) / 100.0, g.get("start").asDouble(), 1e-9);
            assertEquals(Math.round(s.end() * 100) / 100.0, g.get("end").asDouble(), 1e-9);
            assertEquals(s.avgLogprob(), g.get("avg_logprob").asDouble(), 1e-5, "segment " + i);
            assertEquals(s.compressionRatio(), g.get("compression_ratio").asDouble(), 1e-12, "segment " + i);
            assertEquals(0.0, g.get("temperature").asDouble());
        }
    }

    @Test
    void verboseJsonSegmentsEqualTheTranscriber() throws Exception {
        HttpResponse<String> r = post("/v1/audio/transcriptions", upload("hello.wav", "model", "tiny-whisper", "language", "en",
                "response_format", "verbose_json", "timestamp_granularities[]", "segment"));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode o = M.readTree(r.body());
        Transcript want = direct("hello.wav", "en", "transcribe", true);
        assertEquals("transcribe", o.get("task").asText());
        assertEquals("en", o.get("language").asText());
        assertEquals(want.text().strip(), o.get("text").asText());
        assertEquals(Audio.read(WAVS.resolve("hello.wav")).seconds(), o.get("duration").asDouble(), 0.006);
        assertSameSegments(want, o.get("segments"));
    }

    @Test
    void jsonTextSrtVttAndDetectedLanguage() throws Exception {
        Transcript want = direct("german.wav", null, "transcribe", false);
        HttpResponse<String> json = post("/v1/audio/transcriptions", upload("german.wav")); // no model: the one speech model
        assertEquals(200, json.statusCode(), json.body());
        assertTrue(json.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertEquals(Map.of("text", want.text().strip()), M.convertValue(M.readTree(json.body()), Map.class));
        HttpResponse<String> text = post("/v1/audio/transcriptions", upload("german.wav", "response_format", "text"));
        assertEquals(want.text().strip() + "\n", text.body());

        Transcript ts = direct("german.wav", null, "transcribe", true);
        Transcript.Segment s0 = ts.segments().getFirst();
        String srt = post("/v1/audio/transcriptions", upload("german.wav", "response_format", "srt")).body();
        assertTrue(srt.startsWith("1\n00:00:0"), srt);
        assertTrue(srt.contains(" --> ") && srt.contains(s0.text().strip() + "\n\n"), srt);
        String vtt = post("/v1/audio/transcriptions", upload("german.wav", "response_format", "vtt")).body();
        assertTrue(vtt.startsWith("WEBVTT\n\n00:00:"), vtt);
        assertEquals(ts.segments().size(), vtt.split(" --> ", -1).length - 1, vtt);
    }

    @Test
    void translationsEndpointTranslates() throws Exception {
        HttpResponse<String> r = post("/v1/audio/translations", upload("german.wav", "model", "tiny-whisper", "response_format", "verbose_json"));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode o = M.readTree(r.body());
        Transcript want = direct("german.wav", null, "translate", true);
        assertEquals("translate", o.get("task").asText());
        assertEquals(want.language(), o.get("language").asText());
        assertSameSegments(want, o.get("segments"));
    }

    @Test
    void concurrentUploadsEqualTheTranscriber() throws Exception {
        String[] wavs = {"hello.wav", "german.wav", "clip_s24_stereo_44100.wav", "clip_f32_48000.wav", "hello.wav", "german.wav"};
        List<CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
        for (String w : wavs)
            fs.add(http.sendAsync(multipart("/v1/audio/transcriptions", upload(w, "language", "en", "response_format", "verbose_json")),
                    HttpResponse.BodyHandlers.ofString()));
        for (int i = 0; i < wavs.length; i++) {
            HttpResponse<String> r = fs.get(i).get();
            assertEquals(200, r.statusCode(), r.body());
            assertSameSegments(direct(wavs[i], "en", "transcribe", true), M.readTree(r.body()).get("segments"));
        }
        assertTrue(server.engine("tiny-whisper").stats().encodedTokens() > 0, "the uploads ran on the model's engine");
    }

    @Test
    void officialOpenAiClient() throws Exception {
        OpenAIClient client = ServeFixture.client(server, null);
        try {
            TranscriptionCreateResponse r = client.audio().transcriptions().create(TranscriptionCreateParams.builder()
                    .file(WAVS.resolve("hello.wav")).model("tiny-whisper").language("en").build());
            assertEquals(direct("hello.wav", "en", "transcribe", false).text().strip(), r.asTranscription().text());
        } finally {
            client.close();
        }
        // verbose_json: OpenAI's segments also carry avg_logprob, compression_ratio and no_speech_prob, which Cortado
        // does not compute, so the client reads them without its strict validation
        OpenAIClient lenient = ServeFixture.client(server, null, false);
        try {
            TranscriptionCreateResponse r = lenient.audio().transcriptions().create(TranscriptionCreateParams.builder()
                    .file(WAVS.resolve("hello.wav")).model("tiny-whisper").language("en")
                    .responseFormat(AudioResponseFormat.VERBOSE_JSON)
                    .addTimestampGranularity(TranscriptionCreateParams.TimestampGranularity.SEGMENT).build());
            TranscriptionVerbose v = r.asVerbose();
            Transcript want = direct("hello.wav", "en", "transcribe", true);
            assertEquals(want.text().strip(), v.text());
            List<TranscriptionSegment> segs = v.segments().orElseThrow();
            assertEquals(want.segments().size(), segs.size());
            for (int i = 0; i < segs.size(); i++) {
                assertEquals(want.segments().get(i).text(), segs.get(i).text());
                assertEquals(Math.round(want.segments().get(i).end() * 100) / 100.0, segs.get(i).end(), 1e-6);
                assertArrayEquals(want.segments().get(i).tokens(), segs.get(i).tokens().stream().mapToInt(Long::intValue).toArray());
            }
        } finally {
            lenient.close();
        }
    }

    static void assertError(HttpResponse<String> r, int status, String code, String mustContain) throws IOException {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode e = M.readTree(r.body()).get("error");
        assertEquals(code, e.get("code").asText(), r.body());
        String msg = e.get("message").asText();
        assertTrue(msg.contains(mustContain), msg);
        assertTrue(!msg.contains("\n") && !msg.contains("Exception"), "one line, no exception names: " + msg);
    }

    @Test
    void badUploadsAreOneLineErrors() throws Exception {
        String t = "/v1/audio/transcriptions";
        assertError(post(t, List.of(new Part("file", "notes.wav", "hello, not audio".getBytes()))), 400, "invalid_request", "is not a WAV file");
        byte[] wav = Files.readAllBytes(WAVS.resolve("hello.wav"));
        assertError(post(t, List.of(new Part("file", "cut.wav", java.util.Arrays.copyOf(wav, 2000)))), 400, "invalid_request", "truncated WAV");
        byte[] header = java.util.Arrays.copyOf(wav, 44);   // a data chunk of 0 bytes: no samples
        java.nio.ByteBuffer.wrap(header).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(40, 0);
        assertError(post(t, List.of(new Part("file", "empty.wav", header))), 400, "invalid_request", "empty");
        assertError(post(t, List.of(new Part("file", "song.mp3", new byte[] {1, 2, 3}))), 400, "invalid_request", "MP3 is not supported");
        assertError(post(t, List.of(new Part("file", "x.wav", new byte[0]))), 400, "invalid_parameter", "'file' is empty");
        assertError(post(t, List.of(Part.field("model", "tiny-whisper"))), 400, "invalid_parameter", "'file' is missing");
        assertError(post(t, upload("hello.wav", "response_format", "mp4")), 400, "invalid_parameter", "'response_format' must be one of");
        assertError(post(t, upload("hello.wav", "temperature", "hot")), 400, "invalid_parameter", "'temperature' must be a number");
        assertError(post(t, upload("hello.wav", "language", "klingon")), 400, "invalid_parameter", "'language' must be an ISO-639-1 code");
        assertError(post(t, upload("hello.wav", "language", "xx")), 400, "invalid_request", "unknown language 'xx'");
        assertError(post(t, upload("hello.wav", "response_format", "verbose_json", "timestamp_granularities[]", "word")), 400,
                "invalid_parameter", "word is not supported");
        assertError(post(t, upload("hello.wav", "model", "stories260K")), 400, "unsupported_url", "needs a speech-to-text (Whisper) model");
        assertError(post(t, upload("hello.wav", "model", "whisper-1")), 404, "model_not_found", "is not served here");
        HttpResponse<String> json = http.send(HttpRequest.newBuilder(URI.create(server.url() + t)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"file\":\"hello.wav\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertError(json, 400, "invalid_request", "multipart/form-data");
        HttpResponse<String> garbled = http.send(HttpRequest.newBuilder(URI.create(server.url() + t))
                .header("Content-Type", "multipart/form-data; boundary=xyz").POST(HttpRequest.BodyPublishers.ofString("--xyz\r\nno headers")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertError(garbled, 400, "invalid_request", "malformed");
        HttpResponse<String> completion = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"tiny-whisper\",\"prompt\":\"x\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertError(completion, 400, "unsupported_url", "/v1/audio/transcriptions");
    }

    @Test
    void bodyOverMaxBodyIs413() throws Exception {
        try (OpenAiServer small = ServeFixture.start(ServeFixture.loopback().maxBodyBytes(64 << 10), whisper)) {
            HttpRequest req = multipart("/v1/audio/transcriptions", upload("hello.wav"));   // 141 KB
            HttpRequest to = HttpRequest.newBuilder(URI.create(small.url() + "/v1/audio/transcriptions"))
                    .header("Content-Type", req.headers().firstValue("Content-Type").orElseThrow()).POST(req.bodyPublisher().orElseThrow()).build();
            assertError(http.send(to, HttpResponse.BodyHandlers.ofString()), 413, "body_too_large", "--max-body");
        }
    }
}
