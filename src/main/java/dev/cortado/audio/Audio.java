package dev.cortado.audio;

import dev.cortado.CortadoException;
import java.nio.file.Path;

/** Mono float samples in [-1, 1] at a sample rate: what every audio reader returns and the frontend consumes. */
public record Audio(float[] samples, int sampleRate) {

    /** Seconds of audio. */
    public double seconds() {
        return samples.length / (double) sampleRate;
    }

    /** This audio at {@code rate} Hz (the same object when it already is). */
    public Audio resampled(int rate) {
        if (rate == sampleRate) return this;
        return new Audio(Resampler.resample(samples, sampleRate, rate), rate);
    }

    /**
     * Reads an audio file (WAV: PCM 8/16/24/32-bit or IEEE float 32/64; FLAC: 8/16/24-bit; any channels, any rate),
     * mixed to mono. FLAC is recognized by its "fLaC" signature, not the file name.
     */
    public static Audio read(Path file) {
        byte[] head = new byte[4];
        try (var in = java.nio.file.Files.newInputStream(file)) {
            if (in.readNBytes(head, 0, 4) == 4 && FlacReader.isFlac(head)) return FlacReader.parse(in.readAllBytes(), file.toString(), head);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new CortadoException("audio file not found: " + file);
        } catch (java.io.IOException e) {
            throw new CortadoException("cannot read audio file " + file + ": " + e.getMessage(), e);
        }
        unsupported(file.toString(), file.getFileName().toString());
        return WavReader.read(file);
    }

    /** Audio from a file's bytes (an upload: WAV or FLAC); {@code name} (its file name) appears in errors. */
    public static Audio parse(byte[] bytes, String name) {
        if (FlacReader.isFlac(bytes)) return FlacReader.parse(bytes, name, null);
        unsupported(name, name);
        return WavReader.parse(bytes, name);
    }

    private static void unsupported(String what, String fileName) {
        String name = fileName.toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".flac")) throw new CortadoException(what + " is not a FLAC file (no fLaC signature); re-export it");
        if (name.endsWith(".mp3") || name.endsWith(".ogg") || name.endsWith(".m4a")
                || name.endsWith(".webm") || name.endsWith(".mp4") || name.endsWith(".mpga") || name.endsWith(".mpeg")) {
            throw new CortadoException(what + ": " + name.substring(name.lastIndexOf('.') + 1).toUpperCase(java.util.Locale.ROOT)
                    + " is not supported; convert it to WAV, e.g. ffmpeg -i " + fileName + " -ar 16000 -ac 1 out.wav");
        }
    }
}
