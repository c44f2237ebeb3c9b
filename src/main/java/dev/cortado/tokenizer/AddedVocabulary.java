package dev.cortado.tokenizer;

import dev.cortado.tokenizer.normalizers.Normalizer;
import dev.cortado.tokenizer.normalizers.Normalizers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * tokenizer.json {@code added_tokens}: found in the text before the model runs (leftmost-longest, as HF's
 * Aho-Corasick), honouring {@code lstrip}, {@code rstrip}, {@code single_word} and {@code normalized}.
 */
final class AddedVocabulary {
    record AddedToken(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip, boolean normalized,
                      boolean special) {}

    /** A piece of input: plain text ({@code id < 0}) or an added token. */
    record Segment(String text, int id) {}

    private static final class Node {
        final Map<Character, Node> next = new HashMap<>(4);
        AddedToken token;
    }

    private final List<AddedToken> tokens;
    private final Map<String, AddedToken> byContent = new HashMap<>();
    private final Map<Integer, AddedToken> byId = new HashMap<>();
    private final Node raw = new Node(), normalizedTrie = new Node();
    private final boolean hasRaw, hasNormalized;

    AddedVocabulary(List<AddedToken> tokens, Normalizer normalizer) {
        this.tokens = List.copyOf(tokens);
        boolean r = false, n = false;
        for (AddedToken t : tokens) {
            byContent.put(t.content(), t);
            byId.put(t.id(), t);
            if (t.content().isEmpty()) continue;
            if (t.normalized()) {
                String key = normalizer == null ? t.content() : normalizer.normalize(t.content());
                if (!key.isEmpty()) {
                    insert(normalizedTrie, key, t);
                    n = true;
                }
            } else {
                insert(raw, t.content(), t);
                r = true;
            }
        }
        hasRaw = r;
        hasNormalized = n;
    }

    private static void insert(Node root, String key, AddedToken t) {
        Node node = root;
        for (int i = 0; i < key.length(); i++) node = node.next.computeIfAbsent(key.charAt(i), c -> new Node());
        if (node.token == null) node.token = t;
    }

    List<AddedToken> tokens() {
        return tokens;
    }

    AddedToken byId(int id) {
        return byId.get(id);
    }

    AddedToken byContent(String content) {
        return byContent.get(content);
    }

    boolean isSpecial(int id) {
        AddedToken t = byId.get(id);
        return t != null && t.special();
    }

    /** Splits on added tokens, normalizing the plain pieces in between. */
    List<Segment> split(String text, Normalizer normalizer) {
        List<Segment> first = new ArrayList<>();
        if (hasRaw) find(text, raw, first);
        else first.add(new Segment(text, -1));
        List<Segment> out = new ArrayList<>(first.size());
        for (Segment s : first) {
            if (s.id() >= 0) {
                out.add(s);
                continue;
            }
            String norm = normalizer == null ? s.text() : normalizer.normalize(s.text());
            if (hasNormalized) find(norm, normalizedTrie, out);
            else if (!norm.isEmpty()) out.add(new Segment(norm, -1));
        }
        return out;
    }

    private static void find(String s, Node root, List<Segment> out) {
        int n = s.length();
        int startOffset = 0; // end of the previous match (lstrip never reaches before it)
        int emitted = 0;     // text before this index is already in out
        int i = 0;
        while (i < n) {
            Node node = root;
            AddedToken best = null;
            int bestEnd = -1;
            for (int k = i; k < n; k++) {
                node = node.next.get(s.charAt(k));
                if (node == null) break;
                if (node.token != null) {
                    best = node.token;
                    bestEnd = k + 1;
                }
            }
            if (best == null) {
                i++;
                continue;
            }
            int start = i, stop = bestEnd;
            i = bestEnd;
            if (best.singleWord()) {
                boolean startOk = start == 0 || !isWordChar(s.codePointBefore(start));
                boolean stopOk = stop == n || !isWordChar(s.codePointAt(stop));
                if (!startOk || !stopOk) continue;
            }
            if (best.lstrip()) {
                int ns = start;
                while (ns > 0 && Normalizers.isWhitespace(s.charAt(ns - 1))) ns--;
                start = Math.max(ns, startOffset);
            }
            if (best.rstrip()) {
                while (stop < n && Normalizers.isWhitespace(s.charAt(stop))) stop++;
                i = stop;
            }
            if (start > emitted) out.add(new Segment(s.substring(emitted, start), -1));
            out.add(new Segment(best.content(), best.id()));
            emitted = stop;
            startOffset = stop;
        }
        if (emitted < n) out.add(new Segment(s.substring(emitted), -1));
    }

    private static boolean isWordChar(int cp) {
        return Character.isLetterOrDigit(cp) || cp == '_' || Character.getType(cp) == Character.NON_SPACING_MARK;
    }
}
