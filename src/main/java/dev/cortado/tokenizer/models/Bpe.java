package dev.cortado.tokenizer.models;

import dev.cortado.tokenizer.Json;
import dev.cortado.tokenizer.TokenBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HF BPE: characters (with optional byte fallback, unk fusing, subword prefix / end-of-word suffix) merged by rank
 * with a priority queue, exactly as the Rust {@code Word::merge_all} (lowest rank first, then leftmost).
 */
public final class Bpe extends VocabModel {
    private static final int CACHE_CAPACITY = 10_000;
    private static final int CACHE_MAX_WORD = 256;

    private final MergeMap merges;
    private final String unk, prefix, suffix;
    private final boolean fuseUnk, byteFallback, ignoreMerges;
    private final int[] byteIds = new int[256];
    private final int[] bmpIds; // id of each single BMP char, when there is no prefix/suffix (-2: not computed)
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    Bpe(Map<String, Integer> vocab, MergeMap merges, String unk, String prefix, String suffix, boolean fuseUnk,
        boolean byteFallback, boolean ignoreMerges) {
        super(vocab);
        this.merges = merges;
        this.unk = unk;
        this.prefix = prefix;
        this.suffix = suffix;
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        for (int b = 0; b < 256; b++) byteIds[b] = vocab.getOrDefault(String.format("<0x%02X>", b), -1);
        if (prefix == null && suffix == null) {
            bmpIds = new int[65536];
            for (int c = 0; c < 65536; c++) bmpIds[c] = Character.isSurrogate((char) c) ? -1
                    : vocab.getOrDefault(String.valueOf((char) c), -1);
        } else {
            bmpIds = null;
        }
    }

    static Bpe fromJson(Json j) {
        Map<String, Integer> vocab = Vocab.map(j.obj("vocab"));
        String prefix = emptyToNull(j.str("continuing_subword_prefix", null));
        String suffix = emptyToNull(j.str("end_of_word_suffix", null));
        Json mj = j.has("merges") ? j.arr("merges") : null;
        List<Json> list = mj == null ? List.of() : mj.elements();
        MergeMap merges = new MergeMap(list.size());
        int rank = 0;
        for (Json m : list) {
            String a, b;
            if (m.node().isTextual()) {
                String s = m.text();
                int sp = splitPoint(s, vocab);
                if (sp < 0) throw m.error("a merge must be two vocab tokens separated by one space: " + Json.quote(s));
                a = s.substring(0, sp);
                b = s.substring(sp + 1);
            } else {
                List<Json> pair = m.elements();
                if (pair.size() != 2) throw m.error("a merge must be a pair of tokens [\"a\", \"b\"] or \"a b\"");
                a = pair.get(0).text();
                b = pair.get(1).text();
            }
            Integer ia = vocab.get(a), ib = vocab.get(b);
            if (ia == null) throw m.error("merge token " + Json.quote(a) + " is not in the vocab");
            if (ib == null) throw m.error("merge token " + Json.quote(b) + " is not in the vocab");
            String merged = a + (prefix != null && b.startsWith(prefix) ? b.substring(prefix.length()) : b);
            Integer id = vocab.get(merged);
            if (id == null) throw m.error("merged token " + Json.quote(merged) + " is not in the vocab");
            merges.putIfAbsent(ia, ib, rank++, id);
        }
        double dropout = j.number("dropout", 0);
        if (!(dropout >= 0 && dropout <= 1))
            throw j.get("dropout").error(dropout + " is not allowed: expected null or a number in 0..1");
        String unk = j.str("unk_token", null);
        if (unk != null && !vocab.containsKey(unk)) unk = null;
        return new Bpe(vocab, merges, unk, prefix, suffix, j.bool("fuse_unk", false), j.bool("byte_fallback", false),
                j.bool("ignore_merges", false));
    }

    /**
     * The space that separates a "a b" merge. HF Rust requires exactly one space; some files (TinyLlama's, where
     * NBSP became a space) hold merges like "&nbsp;&nbsp;&nbsp;": Cortado then takes the first space whose halves
     * and their concatenation are vocab tokens (Rust refuses such files).
     */
    private static int splitPoint(String s, Map<String, Integer> vocab) {
        int first = s.indexOf(' ');
        if (first < 0) return -1;
        if (s.indexOf(' ', first + 1) < 0) return first;
        for (int i = first; i >= 0; i = s.indexOf(' ', i + 1)) {
            String a = s.substring(0, i), b = s.substring(i + 1);
            if (!a.isEmpty() && !b.isEmpty() && vocab.containsKey(a) && vocab.containsKey(b)
                    && vocab.containsKey(a + b)) return i;
        }
        return -1;
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    @Override
    public void tokenize(String word, TokenBuffer out) {
        if (ignoreMerges) {
            Integer id = vocab.get(word);
            if (id != null) {
                out.add(id, word);
                return;
            }
        }
        int[] ids = cache.get(word);
        if (ids == null) {
            ids = merge(word);
            if (word.length() <= CACHE_MAX_WORD && cache.size() < CACHE_CAPACITY) cache.put(word, ids);
        }
        for (int id : ids) out.add(id, byId[id]);
    }

    private int[] merge(String w) {
        int n = w.length();
        int[] sym = new int[Math.max(4, n)];
        int count = 0;
        int unkId = unk == null ? -1 : vocab.get(unk);
        boolean pendingUnk = false;
        for (int i = 0; i < n; ) {
            int cp = w.codePointAt(i);
            int end = i + Character.charCount(cp);
            if (bmpIds != null && cp < 65536 && bmpIds[cp] >= 0) {
                if (pendingUnk) {
                    sym = push(sym, count++, unkId);
                    pendingUnk = false;
                }
                sym = push(sym, count++, bmpIds[cp]);
                i = end;
                continue;
            }
            String s = w.substring(i, end);
            if (i > 0 && prefix != null) s = prefix + s;
            if (end == n && suffix != null) s = s + suffix;
            i = end;
            Integer id = vocab.get(s);
            if (id != null) {
                if (pendingUnk) {
                    sym = push(sym, count++, unkId);
                    pendingUnk = false;
                }
                sym = push(sym, count++, id);
                continue;
            }
            if (byteFallback) {
                byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
                boolean all = true;
                for (byte b : bytes) all &= byteIds[b & 0xFF] >= 0;
                if (all) {
                    for (byte b : bytes) sym = push(sym, count++, byteIds[b & 0xFF]);
                    continue;
                }
            }
            if (unkId >= 0) {
                if (pendingUnk && !fuseUnk) sym = push(sym, count++, unkId);
                pendingUnk = true;
            }
        }
        if (pendingUnk) sym = push(sym, count++, unkId);
        return merges.mergeAll(sym, count);
    }

    private static int[] push(int[] a, int at, int v) {
        if (at == a.length) a = java.util.Arrays.copyOf(a, a.length * 2);
        a[at] = v;
        return a;
    }
}
