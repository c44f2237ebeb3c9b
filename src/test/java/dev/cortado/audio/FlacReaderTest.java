package dev.cortado.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FLAC input: the FLACs that soundfile (libsndfile) made from committed WAVs (models/fixtures/whisper/make_flac.py,
 * which checks that libsndfile decodes them back to the WAVs' exact integers) decode to the very samples of the WAV
 * reader, bit for bit: 16-bit mono 22.05 kHz and 24-bit stereo 44.1 kHz. Cut or damaged FLAC gets one clear line.
 */
class FlacReaderTest {
    static final Path AUDIO = Path.of("models/fixtures/whisper/audio");
    @TempDir Path tmp;

    @Test
    void flacSamplesEqualTheWavBitForBit() throws IOException {
        for (String n : new String[] {"hello", "clip_s24_stereo_44100"}) {
            Audio wav = Audio.read(AUDIO.resolve(n + ".wav")), flac = Audio.read(AUDIO.resolve(n + ".flac"));
            assertEquals(wav.sampleRate(), flac.sampleRate(), n);
            assertArrayEquals(wav.samples(), flac.samples(), n);   // float equality: identical integers, identical scaling
            Audio upload = Audio.parse(Files.readAllBytes(AUDIO.resolve(n + ".flac")), n + ".flac");
            assertArrayEquals(wav.samples(), upload.samples(), n + " from bytes");
        }
    }

    @Test
    void signatureNotNameDecides() throws IOException {
        Path renamed = Files.copy(AUDIO.resolve("hello.flac"), tmp.resolve("speech.wav"));
        assertArrayEquals(Audio.read(AUDIO.resolve("hello.wav")).samples(), Audio.read(renamed).samples());
        Path fake = Files.write(tmp.resolve("fake.flac"), "RIFF not really".getBytes());
        assertMessage(() -> Audio.read(fake), "is not a FLAC file");
    }

    @Test
    void truncatedOrCorruptFlacIsOneLine() throws IOException {
        byte[] b = Files.readAllBytes(AUDIO.resolve("hello.flac"));
        Path cut = Files.write(tmp.resolve("cut.flac"), Arrays.copyOf(b, b.length / 2));
        assertMessage(() -> Audio.read(cut), "FLAC");
        Path head = Files.write(tmp.resolve("head.flac"), Arrays.copyOf(b, 10));
        assertMessage(() -> Audio.read(head), "FLAC");
        byte[] bad = b.clone();
        for (int i = b.length / 3; i < b.length / 3 + 2000; i++) bad[i] ^= 0x5A;
        Path corrupt = Files.write(tmp.resolve("corrupt.flac"), bad);
        assertMessage(() -> Audio.read(corrupt), "FLAC");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable r, String mustContain) {
        CortadoException e = assertThrows(CortadoException.class, r);
        assertTrue(e.getMessage().contains(mustContain) && !e.getMessage().contains("\n"), e.getMessage());
        System.out.println("  " + e.getMessage());
    }
}
