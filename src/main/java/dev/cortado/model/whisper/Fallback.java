package dev.cortado.model.whisper;

import dev.cortado.CortadoException;
import dev.cortado.generate.LogitsProcessor;
import dev.cortado.generate.TokenHistory;
import java.util.zip.Deflater;

/**
 * transformers' Whisper temperature fallback ({@code generate(temperature=(0.0, 0.2, ...),
 * compression_ratio_threshold=..., logprob_threshold=...)}): each 30 s window is decoded at the first temperature
 * (0 = greedy, or beam search); when the attempt's compression ratio is above its threshold or its average
 * log-probability below its threshold, the window is decoded again at the next temperature (sampling, one beam); the
 * last attempt is kept when none passes. A null threshold is not checked. The numbers are transformers':
 * {@link #compressionRatio} over the attempt's tokens (EOS kept) and {@link ScoreRecorder}'s average over the processed
 * scores of the chosen tokens (beam search: its sequence score). With a no-speech threshold (and a log-prob one), a
 * window whose no-speech probability (WhisperNoSpeechDetection: softmax of the logits after {@code <|startoftranscript|>}
 * at {@code no_timestamps_token_id - 1}) is above it while its log-probability is below is skipped.
 */
public record Fallback(double[] temperatures, Double compressionRatioThreshold, Double logprobThreshold, Double noSpeechThreshold) {
    public Fallback(double[] temperatures, Double compressionRatioThreshold, Double logprobThreshold) {
        this(temperatures, compressionRatioThreshold, logprobThreshold, null);
    }

    public Fallback {
        if (temperatures == null || temperatures.length == 0) throw new CortadoException("the temperature schedule is empty");
        temperatures = temperatures.clone();
        for (double t : temperatures)
            if (!(t >= 0 && t <= 2)) throw new CortadoException("fallback temperatures must be in [0, 2], got " + t);
    }

    /**
     * The schedule transformers' documentation suggests: 0.0, 0.2, …, 1.0; compression ratio 1.35; log-prob -1.0;
     * no-speech 0.6.
     */
    public static Fallback defaults() {
        return new Fallback(new double[] {0.0, 0.2, 0.4, 0.6, 0.8, 1.0}, 1.35, -1.0, 0.6);
    }

    /**
     * Whether an attempt's window is silence to skip (no segment, the next window starts after it): transformers'
     * should_skip, a log-probability below its threshold while the no-speech probability is above its own.
     */
    public boolean skip(double avgLogprob, double noSpeechProb) {
        return noSpeechThreshold != null && logprobThreshold != null && avgLogprob < logprobThreshold && noSpeechProb > noSpeechThreshold;
    }

    @Override
    public double[] temperatures() {
        return temperatures.clone();
    }

    /** Whether an attempt with these numbers is decoded again at the next temperature (transformers' _need_fallback, unless {@link #skip}). */
    public boolean needed(double compressionRatio, double avgLogprob) {
        return compressionRatioThreshold != null && compressionRatio > compressionRatioThreshold
                || logprobThreshold != null && avgLogprob < logprobThreshold;
    }

    /**
     * transformers' {@code _retrieve_compression_ratio}: the tokens as little-endian integers of
     * {@code int(log2(vocab) / 8) + 1} bytes, their length over the length of their zlib compression (level 6).
     */
    public static double compressionRatio(int[] tokens, int vocabSize) {
        int width = (int) (Math.log(vocabSize) / Math.log(2) / 8) + 1;
        byte[] raw = new byte[tokens.length * width];
        for (int i = 0; i < tokens.length; i++)
            for (int b = 0; b < width; b++) raw[i * width + b] = (byte) (tokens[i] >>> (8 * b));
        Deflater d = new Deflater(6);
        try {
            d.setInput(raw);
            d.finish();
            byte[] buf = new byte[raw.length + 64];
            int n = 0;
            while (!d.finished()) n += d.deflate(buf);
            return raw.length / (double) n;
        } finally {
            d.end();
        }
    }

    /**
     * The last of a row's logits processors: keeps each step's processed scores (before the sampling warpers) and,
     * once the next token is known, adds its log-softmax: transformers' {@code _retrieve_avg_logprobs} (scores
     * rescaled by the temperature it divided them by, i.e. the processed logits). One row (greedy or sampling).
     */
    static final class ScoreRecorder implements LogitsProcessor {
        private float[] last;
        private double sum;
        private int count;

        @Override
        public void process(TokenHistory history, float[] scores) {
            if (last != null) add(history.last());
            last = scores.clone();
        }

        /** The average log-probability of the generated tokens, the last one {@code lastToken}. */
        double average(int lastToken) {
            if (last != null) add(lastToken);
            last = null;
            return count == 0 ? 0 : sum / count;
        }

        private void add(int token) {
            double max = Double.NEGATIVE_INFINITY;
            for (float v : last) if (v > max) max = v;
            double s = 0;
            for (float v : last) s += Math.exp(v - max);
            sum += last[token] - max - Math.log(s);
            count++;
        }
    }
}
