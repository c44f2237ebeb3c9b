package dev.cortado.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Audio frontend vs references written by others (goldens from models/fixtures/whisper/build_whisper.py):
 * WAV decoding vs soundfile, resampling vs scipy.signal.resample_poly (and librosa's soxr_hq, looser),
 * log-mel features vs transformers' WhisperFeatureExtractor within 1e-4.
 */
class WhisperFrontendTest {
    static final Path DIR = Path.of("models/fixtures/whisper");

    static JsonNode golden() throws IOException {
        return new ObjectMapper().readTree(DIR.resolve("frontend.json").toFile());
    }

    @Test
    void wavReaderMatchesSoundfile() throws IOException {
        JsonNode r = golden().get("reader");
        int n = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = r.fields(); it.hasNext(); n++) {
            var e = it.next();
            JsonNode g = e.getValue();
            Audio a = Audio.read(DIR.resolve("audio").resolve(e.getKey()));
            assertEquals(g.get("rate").asInt(), a.sampleRate(), e.getKey());
            assertEquals(g.get("frames").asInt(), a.samples().length, e.getKey());
            for (int i = 0; i < g.get("idx").size(); i++) {
                int idx = g.get("idx").get(i).asInt();
                assertEquals(g.get("values").get(i).asDouble(), a.samples()[idx], 1e-6, e.getKey() + " sample " + idx);
            }
            double sum = 0;
            for (float v : a.samples()) sum += v;
            assertEquals(g.get("sum").asDouble(), sum, 1e-3, e.getKey());
        }
        assertTrue(n >= 7, "all WAV variants covered");
    }

    @Test
    void resamplerMatchesResamplePoly() throws IOException {
        JsonNode r = golden().get("resample");
        for (Iterator<Map.Entry<String, JsonNode>> it = r.fields(); it.hasNext(); ) {
            var e = it.next();
            JsonNode g = e.getValue();
            Audio a = Audio.read(DIR.resolve("audio").resolve(e.getKey())).resampled(16000);
            assertEquals(g.get("length").asInt(), a.samples().length, e.getKey());
            int step = g.get("idx_step").asInt();
            double worst = 0, diff2 = 0, sig2 = 0;
            for (int i = 0; i < g.get("resample_poly").size(); i++) {
                worst = Math.max(worst, Math.abs(g.get("resample_poly").get(i).asDouble() - a.samples()[i * step]));
            }
            JsonNode soxr = g.get("librosa_soxr_hq");
            for (int i = 0; i < soxr.size() && i * step < a.samples().length; i++) {
                double d = soxr.get(i).asDouble() - a.samples()[i * step];
                diff2 += d * d;
                sig2 += soxr.get(i).asDouble() * soxr.get(i).asDouble();
            }
            assertTrue(worst < 1e-6, e.getKey() + ": max |Δ| vs resample_poly " + worst);
            // a different filter design (soxr): agreement is a sanity check, not exactness (the filters differ near Nyquist)
            double rel = Math.sqrt(diff2 / sig2);
            assertTrue(rel < 0.05, e.getKey() + ": relative RMS difference vs librosa soxr_hq " + rel);
            System.out.printf("%s: max |Δ| vs resample_poly %.2e, relative RMS Δ vs librosa soxr_hq %.2e%n", e.getKey(), worst, rel);
        }
    }

    @Test
    void logMelMatchesWhisperFeatureExtractor() throws IOException {
        for (JsonNode f : golden().get("features")) {
            int mels = f.get("mel_bins").asInt(), stored = f.get("stored_frames").asInt();
            Audio a = Audio.read(DIR.resolve("audio").resolve(f.get("wav").asText())).resampled(16000);
            float[][] got = LogMel.whisper(mels).window(a.samples());
            assertEquals(mels, got.length);
            assertEquals(f.get("shape").get(1).asInt(), got[0].length);
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(DIR.resolve(f.get("file").asText()))).order(ByteOrder.LITTLE_ENDIAN);
            double worst = 0;
            for (int m = 0; m < mels; m++)
                for (int t = 0; t < stored; t++) worst = Math.max(worst, Math.abs(b.getFloat() - got[m][t]));
            int[] tails = {2000, 2999};
            for (int k = 0; k < 2; k++)
                for (int m = 0; m < mels; m++)
                    worst = Math.max(worst, Math.abs(f.get("tail_values").get(k).get(m).asDouble() - got[m][tails[k]]));
            assertTrue(worst <= 1e-4, f.get("file").asText() + ": max |Δ| vs WhisperFeatureExtractor " + worst);
            System.out.println(f.get("file").asText() + ": max |Δ| " + worst);
        }
    }
}
