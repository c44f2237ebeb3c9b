package dev.cortado.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.testing.Shared;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cortado transcribe}: JSON shape and text vs transformers' goldens; bad input → one line, exit 2. */
class TranscribeCliTest {
    static final Path DIR = Path.of("models/fixtures/whisper");
    static final String MODEL = DIR.resolve("tiny-whisper").toString();
    @TempDir Path tmp;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    static void assertOneLineError(Run r, String mustContain) {
        assertEquals(2, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "expected one error line, got:\n" + r.err());
        assertTrue(lines[0].contains(mustContain), "error should mention '" + mustContain + "': " + lines[0]);
        assertFalse(lines[0].contains("internal error"), lines[0]);
        assertFalse(r.err().contains("\tat "), "no stack trace without --debug");
    }

    @Test
    void jsonShapeAndTextMatchTransformers() throws Exception {
        Path tok = Shared.require("models/tokenizers/whisper-tiny/tokenizer.json");
        Run r = run("transcribe", "--model", MODEL, "--tokenizer", tok.toString(), "--language", "en", "--timestamps",
                "--max-new-tokens", "24", "--json", DIR.resolve("audio/hello.wav").toString());
        assertEquals(0, r.code(), r.err());
        JsonNode o = new ObjectMapper().readTree(r.out().strip());
        assertEquals(DIR.resolve("audio/hello.wav").toString(), o.get("file").asText());
        assertEquals("en", o.get("language").asText());
        JsonNode golden = new ObjectMapper().readTree(DIR.resolve("tiny-whisper/goldens.json").toFile())
                .get("generate").get("en_timestamps_greedy").get("segments");
        assertEquals(golden.size(), o.get("segments").size());
        for (int i = 0; i < golden.size(); i++) {
            JsonNode s = o.get("segments").get(i), g = golden.get(i);
            assertEquals(g.get("text").asText().strip(), s.get("text").asText());
            assertEquals(g.get("start").asDouble(), s.get("start").asDouble(), 0.005);
            assertEquals(g.get("end").asDouble(), s.get("end").asDouble(), 0.005);
        }
        assertEquals(golden.get(0).get("text").asText().strip(), o.get("text").asText());
    }

    @Test
    void notAWav() throws Exception {
        Path f = tmp.resolve("notes.wav");
        Files.writeString(f, "this is not audio at all");
        assertOneLineError(run("transcribe", "--model", MODEL, f.toString()), "is not a WAV file");
    }

    @Test
    void truncatedWav() throws Exception {
        byte[] full = Files.readAllBytes(DIR.resolve("audio/hello.wav"));
        Path f = tmp.resolve("cut.wav");
        Files.write(f, Arrays.copyOf(full, 5000));
        assertOneLineError(run("transcribe", "--model", MODEL, f.toString()), "truncated WAV");
        Path g = tmp.resolve("header-only.wav");
        Files.write(g, Arrays.copyOf(full, 30));
        assertOneLineError(run("transcribe", "--model", MODEL, g.toString()), "truncated WAV");
    }

    @Test
    void emptyAudio() throws Exception {
        Path f = tmp.resolve("empty.wav");
        Files.write(f, wav(1, 16, 16000, new byte[0]));
        assertOneLineError(run("transcribe", "--model", MODEL, f.toString()), "empty");
    }

    @Test
    void unsupportedEncoding() throws Exception {
        Path f = tmp.resolve("mulaw.wav");
        Files.write(f, wav(7, 8, 8000, new byte[800]));
        assertOneLineError(run("transcribe", "--model", MODEL, f.toString()), "unsupported WAV encoding");
        Path mp3 = tmp.resolve("speech.mp3");
        Files.write(mp3, new byte[100]);
        assertOneLineError(run("transcribe", "--model", MODEL, mp3.toString()), "MP3 is not supported");
    }

    @Test
    void missingAudioFile() {
        assertOneLineError(run("transcribe", "--model", MODEL, tmp.resolve("nope.wav").toString()), "audio file not found");
    }

    @Test
    void nonWhisperModel() {
        assertOneLineError(run("transcribe", "--model", "models/fixtures/tiny-bart", DIR.resolve("audio/hello.wav").toString()),
                "which `cortado transcribe` does not run; use cortado translate");
        assertOneLineError(run("transcribe", "--model", tmp.toString(), DIR.resolve("audio/hello.wav").toString()), "no config.json");
    }

    @Test
    void textCommandsPointToTranscribe() {
        assertOneLineError(run("translate", "--model", MODEL, "--tokenizer", "models/cortado-en-de/tokenizer.json", "hello"), "cortado transcribe");
        Run info = run("info", "--model", MODEL);
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("speech-to-text (Whisper) model") && info.out().contains("run it with cortado transcribe"), info.out());
        assertTrue(info.out().contains("engine:     whisper (safetensors)"), info.out());
    }

    /** config.json errors go through ConfigCheck: one line naming the file, field and rule. */
    @Test
    void badWhisperConfig() throws Exception {
        String wav = DIR.resolve("audio/hello.wav").toString();
        Path m = tmp.resolve("bad-whisper");
        Files.createDirectories(m);
        for (String f : new String[] {"config.json", "generation_config.json", "preprocessor_config.json", "model.safetensors"})
            Files.copy(DIR.resolve("tiny-whisper").resolve(f), m.resolve(f));
        String good = Files.readString(m.resolve("config.json"));
        Files.writeString(m.resolve("config.json"), good.replace("\"encoder_attention_heads\": 2", "\"encoder_attention_heads\": 3"));
        assertOneLineError(run("transcribe", "--model", m.toString(), wav), "encoder_attention_heads = 3");
        Files.writeString(m.resolve("config.json"), good.replace("\"num_mel_bins\": 80", "\"num_mel_bins\": 128"));
        assertOneLineError(run("transcribe", "--model", m.toString(), "--tokenizer", "models/cortado-en-de/tokenizer.json", wav), "model.encoder.conv1.weight");
        Files.writeString(m.resolve("config.json"), good);
        Files.delete(m.resolve("generation_config.json"));
        assertOneLineError(run("transcribe", "--model", m.toString(), wav), "has no generation_config.json");
    }

    @Test
    void badOptions() {
        String wav = DIR.resolve("audio/hello.wav").toString();
        assertOneLineError(run("transcribe", "--model", MODEL, "--task", "summarize", wav), "--task must be transcribe or translate");
        assertOneLineError(run("transcribe", "--model", MODEL, "--beams", "0", wav), "--beams must be");
    }

    @Test
    void unknownLanguage() throws Exception {
        Path tok = Shared.require("models/tokenizers/whisper-tiny/tokenizer.json");
        assertOneLineError(run("transcribe", "--model", MODEL, "--tokenizer", tok.toString(), "--language", "klingon",
                DIR.resolve("audio/hello.wav").toString()), "unknown language 'klingon'");
    }

    static byte[] wav(int format, int bits, int rate, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(44 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes()).putInt(36 + data.length).put("WAVE".getBytes()).put("fmt ".getBytes()).putInt(16)
                .putShort((short) format).putShort((short) 1).putInt(rate).putInt(rate * bits / 8).putShort((short) (bits / 8))
                .putShort((short) bits).put("data".getBytes()).putInt(data.length).put(data);
        return b.array();
    }
}
