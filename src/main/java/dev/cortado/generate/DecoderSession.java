package dev.cortado.generate;

/** The per-request state of a {@link LanguageModel}: one KV cache per row. */
public interface DecoderSession extends AutoCloseable {
    /**
     * Appends {@code tokens[row]} (same count for every row) to each row and returns the raw logits of the last
     * appended position of each row, [rows][vocab]. {@code valid} (same shape, or null = all valid) marks
     * left-padding positions that must be invisible to attention and do not advance positions.
     */
    float[][] step(int[][] tokens, boolean[][] valid);

    /** Beam search: afterwards row i continues what row {@code sources[i]} was (rows may be duplicated). */
    void reorder(int[] sources);

    /** Number of rows. */
    int rows();

    /** Tokens appended so far per row (including padding positions). */
    int length();

    @Override
    default void close() {}
}
