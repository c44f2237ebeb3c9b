package dev.cortado.generate;

/** The per-request state of a {@link LanguageModel}: one KV cache per row. */
public interface DecoderSession extends AutoCloseable {
    /**
     * Appends {@code tokens[row]} (same count for every row) to each row and returns the raw logits of the last
     * appended position of each row, [rows][vocab]. {@code valid} (same shape, or null = all valid) marks
     * left-padding positions that must be invisible to attention and do not advance positions.
     */
    float[][] step(int[][] tokens, boolean[][] valid);

    /**
     * {@link #step} for a greedy pick without logits processors: only each row's argmax id and its log-softmax value
     * come back (a device backend computes them on the device, so rows × vocab logits never reach the host). This
     * default computes them from {@link #step}'s logits with the same arithmetic ({@link dev.cortado.backend.Greedy#ofHost}).
     */
    default dev.cortado.backend.Greedy stepGreedy(int[][] tokens, boolean[][] valid) {
        float[][] logits = step(tokens, valid);
        int vocab = logits.length == 0 ? 0 : logits[0].length;
        float[] flat = new float[logits.length * vocab];
        for (int r = 0; r < logits.length; r++) System.arraycopy(logits[r], 0, flat, r * vocab, vocab);
        return dev.cortado.backend.Greedy.ofHost(flat, logits.length, vocab);
    }

    /**
     * {@link #step} followed by the step's token choice ({@link dev.cortado.backend.TokenChoice}: processors, then
     * greedy / sampling / beam top-k) on the model's backend; only the choices come back. This default chooses on
     * {@link #step}'s host logits with the CPU reference ({@link dev.cortado.backend.HostChoice}).
     */
    default dev.cortado.backend.Choices choose(int[][] tokens, boolean[][] valid, dev.cortado.backend.TokenChoice choice) {
        float[][] logits = step(tokens, valid);
        int vocab = logits.length == 0 ? 0 : logits[0].length;
        float[] flat = new float[logits.length * vocab];
        for (int r = 0; r < logits.length; r++) {
            if (logits[r].length != vocab)
                throw new dev.cortado.CortadoException("model returned " + logits[r].length + " logits in row " + r
                        + " but " + vocab + " in row 0");
            System.arraycopy(logits[r], 0, flat, r * vocab, vocab);
        }
        return dev.cortado.backend.HostChoice.choose(flat, logits.length, vocab, choice);
    }

    /** Beam search: afterwards row i continues what row {@code sources[i]} was (rows may be duplicated). */
    void reorder(int[] sources);

    /** Number of rows. */
    int rows();

    /** Tokens appended so far per row (including padding positions). */
    int length();

    @Override
    default void close() {}
}
