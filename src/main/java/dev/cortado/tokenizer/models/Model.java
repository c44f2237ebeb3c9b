package dev.cortado.tokenizer.models;

import dev.cortado.tokenizer.TokenBuffer;

/** Turns one pre-tokenized word into tokens (tokenizer.json {@code model}). */
public interface Model {
    void tokenize(String word, TokenBuffer out);

    /** -1 when absent. */
    int tokenToId(String token);

    /** null when absent. */
    String idToToken(int id);

    int vocabSize();
}
