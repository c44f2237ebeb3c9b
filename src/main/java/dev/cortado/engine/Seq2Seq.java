package dev.cortado.engine;

import dev.cortado.generate.LanguageModel;

/**
 * An encoder-decoder model: encode a batch of sources once, then bind the decoder to that encoding as a
 * {@link LanguageModel} whose rows are sources × rowsPerSource (beams), so generation code is shared with
 * decoder-only models. Implemented by Cortado's engine and by ONNX Runtime.
 */
public interface Seq2Seq extends AutoCloseable {
    /** Opaque encoder output for a batch of sources. */
    interface Encoded {
        int batch();
    }

    Encoded encode(int[][] ids, boolean[][] valid);

    LanguageModel bind(Encoded encoded, int rowsPerSource);

    /** Encoder runs so far (tests check: once per batch of sources). */
    int encoderRuns();

    /** Cross-attention K/V computations so far (tests check: once per source batch, not per step or beam). */
    int crossKvComputations();

    int maxSourcePositions();

    /** Output vocabulary size (logits per step). */
    int vocabSize();

    String describe();

    @Override
    void close();
}
