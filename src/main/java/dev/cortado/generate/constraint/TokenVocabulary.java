package dev.cortado.generate.constraint;

import dev.cortado.tokenizer.Tokenizer;
import dev.cortado.tokenizer.decoders.Decoders;
import dev.cortado.tokenizer.pretokenizers.ByteLevel;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * What each token adds to the generated text, as bytes, found by asking the tokenizer's own decoder: a token's
 * mid-sequence text is {@code decode([ref, id]) - decode([ref])} for a plain reference token (so Metaspace
 * {@code ▁}, byte-level {@code Ġ} and Replace/Strip decoders act as they do inside a sequence), its text as the
 * first generated token is {@code decode([id])} (a leading space the decoder strips there is gone). Tokens that
 * decode to an incomplete UTF-8 character (SentencePiece {@code <0xNN>} byte fallback, byte-level BPE pieces of a
 * character) contribute their raw bytes. Special tokens, unknown ids and tokens that add no text are never allowed
 * by a constraint (EOS is handled apart). One instance per tokenizer, cached.
 */
public final class TokenVocabulary {
    private static final Map<Tokenizer, TokenVocabulary> CACHE = new WeakHashMap<>();

    private final int size;
    private final byte[][] mid;
    private final byte[][] first;
    private final TokenTrie midTrie;
    private final TokenTrie firstTrie;

    private TokenVocabulary(Tokenizer tok) {
        int n = tok.vocabSize();
        while (tok.idToToken(n) != null) n++;
        size = n;
        mid = new byte[n][];
        first = new byte[n][];
        int ref = reference(tok, n);
        String prefix = ref < 0 ? "" : tok.decode(new int[] {ref}, false);
        for (int id = 0; id < n; id++) {
            String t = tok.idToToken(id);
            if (t == null || tok.isSpecial(id)) continue;
            String alone = tok.decode(new int[] {id}, false);
            String both = ref < 0 ? alone : tok.decode(new int[] {ref, id}, false);
            String m = both.startsWith(prefix) ? both.substring(prefix.length()) : alone;
            byte[] raw = m.indexOf('\uFFFD') >= 0 && t.indexOf('\uFFFD') < 0 ? rawBytes(t) : null;
            mid[id] = raw != null ? raw : utf8(m);
            first[id] = raw != null ? raw : utf8(alone);
            if (m.indexOf('\uFFFD') >= 0 && t.indexOf('\uFFFD') < 0 && raw == null) mid[id] = first[id] = null;
        }
        midTrie = new TokenTrie(mid);
        firstTrie = new TokenTrie(first);
    }

    /** The vocabulary of {@code tokenizer} (built once per tokenizer instance). */
    public static TokenVocabulary of(Tokenizer tokenizer) {
        synchronized (CACHE) {
            return CACHE.computeIfAbsent(tokenizer, TokenVocabulary::new);
        }
    }

    /** Ids 0..size-1 are covered; higher ids (a model's padded vocabulary) have no text. */
    public int size() {
        return size;
    }

    /** The bytes token {@code id} adds in the middle of generated text, or null when it never may appear. */
    public byte[] bytes(int id) {
        return id >= 0 && id < size && mid[id] != null ? mid[id].clone() : null;
    }

    /** The bytes token {@code id} adds as the first generated token, or null when it never may start the text. */
    public byte[] firstBytes(int id) {
        return id >= 0 && id < size && first[id] != null ? first[id].clone() : null;
    }

    byte[] bytesShared(int id, boolean atStart) {
        if (id < 0 || id >= size) return null;
        return atStart ? first[id] : mid[id];
    }

    TokenTrie trie(boolean atStart) {
        return atStart ? firstTrie : midTrie;
    }

    /** Bytes of a token whose decoded text is an incomplete character: {@code <0xNN>} or byte-level characters. */
    private static byte[] rawBytes(String token) {
        int b = Decoders.byteToken(token);
        if (b >= 0) return new byte[] {(byte) b};
        byte[] bl = ByteLevel.tokenBytes(token);
        return java.util.Arrays.equals(bl, utf8(token)) ? null : bl;
    }

    private static byte[] utf8(String s) {
        return s.isEmpty() ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    /** A token that decodes to plain letters both alone and as context: the left neighbour for mid-sequence text. */
    private static int reference(Tokenizer tok, int n) {
        for (String cand : new String[] {"a", "the", "x", "e"}) {
            for (int id = 0; id < n; id++) {
                String t = tok.idToToken(id);
                if (t == null || tok.isSpecial(id)) continue;
                if (tok.decode(new int[] {id}, false).equals(cand)) return id;
            }
        }
        for (int id = 0; id < n; id++) {
            String t = tok.idToToken(id);
            if (t != null && !tok.isSpecial(id) && tok.decode(new int[] {id}, false).matches("[A-Za-z]+")) return id;
        }
        return -1;
    }
}
