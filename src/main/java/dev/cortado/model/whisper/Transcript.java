package dev.cortado.model.whisper;

import java.util.List;

/** A transcription: text, the language (given or detected), segments with start/end seconds, and the token ids. */
public record Transcript(String text, String language, List<Segment> segments, int[] tokens) {
    /**
     * {@code temperature}, {@code avgLogprob} and {@code compressionRatio}: those of the decoding attempt of the 30 s
     * window the segment came from (transformers' fallback measures; see {@link Fallback}).
     */
    public record Segment(double start, double end, String text, int[] tokens, double temperature, double avgLogprob,
                          double compressionRatio) {
        public Segment(double start, double end, String text, int[] tokens) {
            this(start, end, text, tokens, 0, Double.NaN, Double.NaN);
        }
    }
}
