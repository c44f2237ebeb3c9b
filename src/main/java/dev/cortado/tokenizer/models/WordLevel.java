package dev.cortado.tokenizer.models;

import dev.cortado.tokenizer.Json;
import dev.cortado.tokenizer.TokenBuffer;
import java.util.Map;

/** HF WordLevel: one word, one id (unknown words map to the unk token). */
public final class WordLevel extends VocabModel {
    private final String unk;

    WordLevel(Map<String, Integer> vocab, String unk) {
        super(vocab);
        this.unk = unk;
    }

    static WordLevel fromJson(Json j) {
        return new WordLevel(Vocab.map(j.obj("vocab")), j.str("unk_token", "<unk>"));
    }

    @Override
    public void tokenize(String word, TokenBuffer out) {
        Integer id = vocab.get(word);
        if (id != null) out.add(id, word);
        else if (vocab.get(unk) != null) out.add(vocab.get(unk), unk);
        else throw new dev.cortado.CortadoException(Json.oneLine("tokenizer.json $.model: the word " + Json.quote(word)
                + " is not in the WordLevel vocab and its unk_token " + Json.quote(unk) + " is not either; add the unk token to the vocab"));
    }
}
