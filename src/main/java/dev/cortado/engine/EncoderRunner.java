package dev.cortado.engine;

/** Runs an encoder: padded token ids in, last hidden state out. Implemented by Cortado's engine and by ORT. */
public interface EncoderRunner extends AutoCloseable {
    /** ids/typeIds [B][S] (padded, rectangular), valid [B][S] → hidden [B][S][D]. */
    float[][][] lastHiddenState(int[][] ids, int[][] typeIds, boolean[][] valid);

    /** Longest input in tokens (position table size). */
    int maxPositions();

    String describe();

    @Override
    default void close() {}
}
