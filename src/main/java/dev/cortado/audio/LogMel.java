package dev.cortado.audio;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.CortadoException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whisper's log-mel spectrogram, as transformers' {@code WhisperFeatureExtractor}: audio padded with zeros (or cut)
 * to {@code n_samples} (30 s), centred STFT (reflect padding n_fft/2, periodic Hann window, n_fft 400, hop 160),
 * power spectrum, Slaney-normalized Slaney-scale mel filters (0–8 kHz), log10 of max(·, 1e-10), last frame
 * dropped, floor at (global max − 8), then (x + 4) / 4. Computed in double precision.
 */
public final class LogMel {
    private final int nMels, nFft, hop, sampleRate, nSamples;
    private final double[][] filters;   // [nMels][nFft/2 + 1]
    private final double[] window;

    public LogMel(int nMels, int nFft, int hop, int sampleRate, int nSamples) {
        if (nMels <= 0 || nFft <= 0 || hop <= 0 || sampleRate <= 0 || nSamples <= 0)
            throw new CortadoException("log-mel settings must be positive: feature_size " + nMels + ", n_fft " + nFft
                    + ", hop_length " + hop + ", sampling_rate " + sampleRate + ", n_samples " + nSamples);
        this.nMels = nMels;
        this.nFft = nFft;
        this.hop = hop;
        this.sampleRate = sampleRate;
        this.nSamples = nSamples;
        this.filters = melFilters(nFft / 2 + 1, nMels, 0.0, sampleRate / 2.0, sampleRate);
        this.window = new double[nFft];
        for (int i = 0; i < nFft; i++) {
            window[i] = 0.5 - 0.5 * Math.cos(2 * Math.PI * i / nFft);
        }
    }

    /** Whisper's defaults: 80 mel bins, 16 kHz, 30 s windows. */
    public static LogMel whisper(int nMels) {
        return new LogMel(nMels, 400, 160, 16000, 480000);
    }

    /** From a model folder's preprocessor_config.json (WhisperFeatureExtractor fields); defaults when absent. */
    public static LogMel fromPreprocessorConfig(Path dir, int nMelsFromModel) {
        Path f = dir.resolve("preprocessor_config.json");
        if (!Files.isRegularFile(f)) return whisper(nMelsFromModel);
        try {
            JsonNode j = new ObjectMapper().readTree(f.toFile());
            int sr = j.path("sampling_rate").asInt(16000);
            int chunk = j.path("chunk_length").asInt(30);
            LogMel m = new LogMel(j.path("feature_size").asInt(nMelsFromModel), j.path("n_fft").asInt(400),
                    j.path("hop_length").asInt(160), sr, j.path("n_samples").asInt(chunk * sr));
            if (m.nMels != nMelsFromModel)
                throw new CortadoException(f + ": feature_size " + m.nMels + " but the model's num_mel_bins is " + nMelsFromModel
                        + "; the two files do not belong together");
            return m;
        } catch (IOException e) {
            throw new CortadoException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    public int melBins() { return nMels; }
    public int sampleRate() { return sampleRate; }
    public int hopLength() { return hop; }
    public int samplesPerWindow() { return nSamples; }
    /** Frames per window (3000 for 30 s). */
    public int framesPerWindow() { return nSamples / hop; }

    /** Features of one window: audio padded or cut to n_samples → [nMels][n_samples / hop]. */
    public float[][] window(float[] audio) {
        float[] x = java.util.Arrays.copyOf(audio, nSamples);
        return compute(x);
    }

    /**
     * Features of the whole audio (long-form: transformers with {@code truncation=False, padding="longest"}): never
     * cut, padded only up to n_samples → [nMels][len / hop]; the floor (max − 8) is over the whole audio.
     */
    public float[][] whole(float[] audio) {
        return compute(audio.length >= nSamples ? audio : java.util.Arrays.copyOf(audio, nSamples));
    }

    private float[][] compute(float[] x) {
        int pad = nFft / 2, n = x.length;
        if (n <= pad) throw new CortadoException("audio of " + n + " samples is too short for the spectrogram");
        double[] padded = new double[n + 2 * pad];
        for (int i = 0; i < n; i++) padded[pad + i] = x[i];
        for (int i = 1; i <= pad; i++) {                 // numpy 'reflect' (edge sample not repeated)
            padded[pad - i] = x[i];
            padded[pad + n - 1 + i] = x[n - 1 - i];
        }
        int frames = 1 + (padded.length - nFft) / hop - 1; // the last frame is dropped
        int bins = nFft / 2 + 1;
        double[][] logSpec = new double[nMels][frames];
        double[] frame = new double[nFft], power = new double[bins];
        Fft fft = new Fft(nFft);
        double max = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < frames; t++) {
            int start = t * hop;
            boolean zero = true;
            for (int i = 0; i < nFft; i++) {
                frame[i] = padded[start + i] * window[i];
                if (frame[i] != 0) zero = false;
            }
            if (zero) {
                java.util.Arrays.fill(power, 0);
            } else {
                fft.power(frame, power);
            }
            for (int m = 0; m < nMels; m++) {
                double[] f = filters[m];
                double s = 0;
                for (int k = 0; k < bins; k++) s += f[k] * power[k];
                double v = Math.log10(Math.max(s, 1e-10));
                logSpec[m][t] = v;
                if (v > max) max = v;
            }
        }
        float[][] out = new float[nMels][frames];
        double floor = max - 8.0;
        for (int m = 0; m < nMels; m++)
            for (int t = 0; t < frames; t++) out[m][t] = (float) ((Math.max(logSpec[m][t], floor) + 4.0) / 4.0);
        return out;
    }

    /** transformers' mel_filter_bank(norm="slaney", mel_scale="slaney") transposed: [nMels][nFreq]. */
    static double[][] melFilters(int nFreq, int nMels, double fMin, double fMax, int sampleRate) {
        double melMin = hzToMel(fMin), melMax = hzToMel(fMax);
        double[] hz = new double[nMels + 2];
        for (int i = 0; i < hz.length; i++) hz[i] = melToHz(melMin + (melMax - melMin) * i / (nMels + 1));
        double[] fft = new double[nFreq];
        for (int k = 0; k < nFreq; k++) fft[k] = (sampleRate / 2.0) * k / (nFreq - 1);
        double[][] out = new double[nMels][nFreq];
        for (int m = 0; m < nMels; m++) {
            double enorm = 2.0 / (hz[m + 2] - hz[m]);
            for (int k = 0; k < nFreq; k++) {
                double down = (fft[k] - hz[m]) / (hz[m + 1] - hz[m]);
                double up = (hz[m + 2] - fft[k]) / (hz[m + 2] - hz[m + 1]);
                out[m][k] = Math.max(0, Math.min(down, up)) * enorm;
            }
        }
        return out;
    }

    static double hzToMel(double f) {
        double fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logstep = Math.log(6.4) / 27.0;
        return f >= minLogHz ? minLogMel + Math.log(f / minLogHz) / logstep : f / fSp;
    }

    static double melToHz(double m) {
        double fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logstep = Math.log(6.4) / 27.0;
        return m >= minLogMel ? minLogHz * Math.exp(logstep * (m - minLogMel)) : fSp * m;
    }
}
