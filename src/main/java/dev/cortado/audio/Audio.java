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

    /** Reads an audio file (WAV: PCM 8/16/24/32-bit or IEEE float 32/64, any channels, any rate), mixed to mono. */
    public static Audio read(Path file) {
        String name = file.getFileName().toString().toLowerCase();
        if (name.endsWith(".flac") || name.endsWith(".mp3") || name.endsWith(".ogg") || name.endsWith(".m4a")) {
            throw new CortadoException(file + ": " + name.substring(name.lastIndexOf('.') + 1).toUpperCase()
                    + " is not supported; convert it to WAV, e.g. ffmpeg -i " + file.getFileName() + " -ar 16000 -ac 1 out.wav");
        }
        return WavReader.read(file);
    }
}
