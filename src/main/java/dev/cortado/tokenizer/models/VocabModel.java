package dev.cortado.tokenizer.models;

import java.util.Map;

/** A model with a token → id vocabulary (BPE, WordPiece, WordLevel): the id/token lookups they share. */
abstract sealed class VocabModel implements Model permits Bpe, WordLevel, WordPiece {
    final Map<String, Integer> vocab;
    final String[] byId;

    VocabModel(Map<String, Integer> vocab) {
        this.vocab = vocab;
        this.byId = Vocab.invert(vocab);
    }

    @Override
    public final int tokenToId(String token) {
        return vocab.getOrDefault(token, -1);
    }

    @Override
    public final String idToToken(int id) {
        return id >= 0 && id < byId.length ? byId[id] : null;
    }

    @Override
    public final int vocabSize() {
        return vocab.size();
    }
}
