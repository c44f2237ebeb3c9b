package dev.cortado.model.whisper;

import java.util.List;

/** A transcription: text, the language (given or detected), segments with start/end seconds, and the token ids. */
public record Transcript(String text, String language, List<Segment> segments, int[] tokens) {
    public record Segment(double start, double end, String text, int[] tokens) {}
}
