package dev.cortado.tokenizer.models;

import dev.cortado.tokenizer.Json;
import dev.cortado.tokenizer.TokenBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * HF Unigram (SentencePiece): Viterbi best segmentation over the vocab pieces (HF {@code encode_optimized}), unknown
 * characters scored {@code min_score - 10} and fused, optional byte fallback.
 */
public final class Unigram implements Model {
    private static final double UNK_PENALTY = 10.0;

    private final String[] pieces;
    private final double[] scores;
    private final Map<String, Integer> ids;
    private final int unkId;
    private final boolean byteFallback, fuseUnk = true;
    private final double unkScore;
    private final CharTrie trie = new CharTrie();

    Unigram(String[] pieces, double[] scores, int unkId, boolean byteFallback) {
        this.pieces = pieces;
        this.scores = scores;
        this.unkId = unkId;
        this.byteFallback = byteFallback;
        this.ids = new HashMap<>(pieces.length * 2);
        double min = Double.POSITIVE_INFINITY;
        for (int i = 0; i < pieces.length; i++) {
            ids.put(pieces[i], i);
            min = Math.min(min, scores[i]);
        }
        // the trie holds each piece once, with the id the vocab map gives it
        for (var e : ids.entrySet()) if (!e.getKey().isEmpty()) trie.put(e.getKey(), e.getValue());
        this.unkScore = min - UNK_PENALTY;
    }

    static Unigram fromJson(Json j) {
        List<Json> vocab = j.arr("vocab").elements();
        String[] pieces = new String[vocab.size()];
        double[] scores = new double[vocab.size()];
        for (int i = 0; i < pieces.length; i++) {
            List<Json> e = vocab.get(i).elements();
            if (e.size() != 2 || !e.get(1).node().isNumber())
                throw vocab.get(i).error("expected [piece, score] with a string piece and a finite number score");
            pieces[i] = e.get(0).text();
            scores[i] = e.get(1).node().doubleValue();
            if (!Double.isFinite(scores[i]))
                throw e.get(1).error(scores[i] + " is not allowed: expected a finite number score");
        }
        int unk = j.has("unk_id") ? j.integer("unk_id") : -1;
        if (unk != -1 && (unk < 0 || unk >= pieces.length))
            throw j.get("unk_id").error("unk_id " + unk + " is outside the vocab: expected null or 0.." + (pieces.length - 1));
        return new Unigram(pieces, scores, unk, j.bool("byte_fallback", false));
    }

    private record Cached(int[] ids, String[] tokens) {}

    private final java.util.concurrent.ConcurrentHashMap<String, Cached> cache = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public void tokenize(String s, TokenBuffer out) {
        Cached c = cache.get(s);
        if (c == null) {
            TokenBuffer b = new TokenBuffer();
            viterbi(s, b);
            String[] toks = new String[b.size()];
            for (int i = 0; i < toks.length; i++) toks[i] = b.token(i);
            c = new Cached(b.ids(), toks);
            if (s.length() <= 256 && cache.size() < 10_000) cache.put(s, c);
        }
        for (int i = 0; i < c.ids.length; i++) out.add(c.ids[i], c.tokens[i]);
    }

    private void viterbi(String s, TokenBuffer out) {
        int n = s.length();
        double[] best = new double[n + 1];
        int[] from = new int[n + 1];
        int[] id = new int[n + 1];
        java.util.Arrays.fill(from, -1);
        int[] hits = new int[64];
        int[] hitLen = new int[64];
        for (int start = 0; start < n; ) {
            int clen = Character.charCount(s.codePointAt(start));
            double base = best[start];
            boolean single = false;
            int h = trie.prefixes(s, start, hits, hitLen);
            if (h > hits.length) {
                hits = new int[h];
                hitLen = new int[h];
                h = trie.prefixes(s, start, hits, hitLen);
            }
            for (int k = 0; k < h; k++) {
                int end = start + hitLen[k];
                double cand = scores[hits[k]] + base;
                if (from[end] < 0 || cand > best[end]) {
                    best[end] = cand;
                    from[end] = start;
                    id[end] = hits[k];
                }
                if (hitLen[k] == clen) single = true;
            }
            if (!single) {
                if (unkId < 0) throw new dev.cortado.CortadoException(Json.oneLine("tokenizer.json $.model: "
                        + Json.quote(s.substring(start, start + clen)) + " is not in the Unigram vocab and there is no"
                        + " unk_id to map it to; set $.model.unk_id"));
                int end = start + clen;
                double cand = unkScore + base;
                if (from[end] < 0 || cand > best[end]) {
                    best[end] = cand;
                    from[end] = start;
                    id[end] = unkId;
                }
            }
            start += clen;
        }
        List<String> rev = new ArrayList<>();
        StringBuilder unk = null;
        for (int end = n; end > 0; ) {
            int start = from[end];
            String piece = s.substring(start, end);
            if (fuseUnk && unkId >= 0 && id[end] == unkId) {
                unk = unk == null ? new StringBuilder(piece) : unk.insert(0, piece);
            } else {
                if (unk != null) {
                    rev.add(unk.toString());
                    unk = null;
                }
                rev.add(piece);
            }
            end = start;
        }
        if (unk != null) rev.add(unk.toString());
        for (int i = rev.size() - 1; i >= 0; i--) emit(rev.get(i), out);
    }

    private void emit(String piece, TokenBuffer out) {
        Integer i = ids.get(piece);
        if (i != null) {
            out.add(i, piece);
            return;
        }
        if (byteFallback) {
            byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
            int[] bi = new int[bytes.length];
            boolean all = true;
            for (int k = 0; k < bytes.length && all; k++) {
                Integer b = ids.get(String.format("<0x%02X>", bytes[k] & 0xFF));
                if (b == null) all = false;
                else bi[k] = b;
            }
            if (all) {
                for (int b : bi) out.add(b, pieces[b]);
                return;
            }
        }
        out.add(unkId, piece);
    }

    @Override
    public int tokenToId(String token) {
        return ids.getOrDefault(token, -1);
    }

    @Override
    public String idToToken(int id) {
        return id >= 0 && id < pieces.length ? pieces[id] : null;
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }
}
