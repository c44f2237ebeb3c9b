package dev.cortado.model.whisper;

import java.util.List;

/** A transcription: text, the language (given or detected), segments with start/end seconds, and the token ids. */
public record Transcript(String text, String language, List<Segment> segments, int[] tokens) {
    /**
     * {@code temperature}, {@code avgLogprob}, {@code compressionRatio} and {@code noSpeechProb} (NaN unless a fallback
     * with a no-speech threshold asked for it): those of the decoding attempt of the 30 s window the segment came from
     * (transformers' fallback measures; see {@link Fallback}).
     */
    public record Segment(double start, double end, String text, int[] tokens, double temperature, double avgLogprob,
                          double compressionRatio, double noSpeechProb) {
        public Segment(double start, double end, String text, int[] tokens) {
            this(start, end, text, tokens, 0, Double.NaN, Double.NaN, Double.NaN);
        }
    }
}
