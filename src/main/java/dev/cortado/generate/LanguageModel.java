package dev.cortado.generate;

/**
 * What generation needs from any model (decoder-only or the decoder of a seq2seq model): next-token logits for a
 * batch of sequences whose KV caches live in a {@link DecoderSession}. Families, engines and devices implement it;
 * generation code knows nothing else about them.
 */
public interface LanguageModel extends AutoCloseable {
    int vocabSize();

    /** Longest sequence (prompt + generated) the model accepts. */
    int maxPositions();

    /**
     * Logits processors the model itself requires (none by default; Whisper: suppress_tokens,
     * begin_suppress_tokens, timestamp rules), applied after the config's processors.
     */
    default java.util.List<LogitsProcessor> logitsProcessors() {
        return java.util.List.of();
    }

    /** A session for {@code batch} sequences with empty caches. */
    DecoderSession newSession(int batch);

    @Override
    default void close() {}
}
