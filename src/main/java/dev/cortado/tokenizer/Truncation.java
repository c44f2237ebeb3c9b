package dev.cortado.tokenizer;

/** Truncation of single sequences: keep at most {@code maxLength} tokens, special tokens included. */
public record Truncation(int maxLength, boolean left) {
    public Truncation {
        if (maxLength < 0) throw new IllegalArgumentException("maxLength must be >= 0: " + maxLength);
    }

    static Truncation fromJson(Json j) {
        String dir = j.str("direction", "Right");
        return new Truncation(j.integer("max_length"), dir.equals("Left"));
    }
}
