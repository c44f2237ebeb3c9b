package dev.cortado.tokenizer.models;

import dev.cortado.tokenizer.Json;
import dev.cortado.tokenizer.TokenBuffer;
import java.util.Map;

/** HF WordPiece: greedy longest-match-first with a continuing-subword prefix ({@code ##}). */
public final class WordPiece extends VocabModel {
    private final String unk, prefix;
    private final int unkId, maxChars;

    public WordPiece(Map<String, Integer> vocab, String unk, String prefix, int maxChars, String jsonPath) {
        super(vocab);
        this.unk = unk;
        this.prefix = prefix;
        this.maxChars = maxChars;
        Integer u = vocab.get(unk);
        if (u == null) throw Json.error(jsonPath, "unk_token " + Json.quote(unk) + " is not in the vocab");
        this.unkId = u;
    }

    public static WordPiece fromJson(Json j) {
        return new WordPiece(Vocab.map(j.obj("vocab")), j.str("unk_token", "[UNK]"),
                j.str("continuing_subword_prefix", "##"), j.integer("max_input_chars_per_word", 100, 1, Integer.MAX_VALUE), j.path());
    }

    @Override
    public void tokenize(String word, TokenBuffer out) {
        if (word.codePointCount(0, word.length()) > maxChars) {
            out.add(unkId, unk);
            return;
        }
        int mark = out.size();
        int start = 0;
        while (start < word.length()) {
            int end = word.length();
            String found = null;
            Integer id = null;
            while (start < end) {
                String sub = word.substring(start, end);
                if (start > 0) sub = prefix + sub;
                id = vocab.get(sub);
                if (id != null) {
                    found = sub;
                    break;
                }
                end -= Character.charCount(word.codePointBefore(end));
            }
            if (found == null) {
                out.keep(0, mark);
                out.add(unkId, unk);
                return;
            }
            out.add(id, found);
            start = end;
        }
    }
}
