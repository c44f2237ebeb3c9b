package dev.cortado.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Incremental detokenization for generation, as HF {@code DecodeStream}: {@link #push} takes one id and returns the
 * new text (possibly empty), never splitting a UTF-8 character (while the decoded window ends in U+FFFD the bytes
 * are held back) and keeping the spacing a full decode gives (the window keeps the previous tokens as context, so
 * Metaspace/Strip first-token rules and WordPiece joins see what they would see in one decode). Not thread-safe.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecial;
    private List<Integer> ids = new ArrayList<>();
    private String prefix = "";
    private int prefixIndex;
    private final StringBuilder all = new StringBuilder();

    StreamingDecoder(Tokenizer tokenizer, boolean skipSpecial) {
        this.tokenizer = tokenizer;
        this.skipSpecial = skipSpecial;
    }

    /** Adds one id; returns the text it completes ("" while a character is incomplete). */
    public String push(int id) {
        ids.add(id);
        String s = decode(ids);
        if (s.length() <= prefix.length() || s.endsWith("\uFFFD")) return "";
        String delta = s.startsWith(prefix) ? s.substring(prefix.length()) : s.substring(commonPrefix(s, prefix));
        int newPrefixIndex = ids.size() - prefixIndex;
        ids = new ArrayList<>(ids.subList(prefixIndex, ids.size()));
        prefix = decode(ids);
        prefixIndex = newPrefixIndex;
        all.append(delta);
        return delta;
    }

    /** Returns whatever is still held back (e.g. a final U+FFFD from truly invalid bytes) and resets. */
    public String flush() {
        String s = decode(ids);
        String delta = s.length() > prefix.length() ? s.substring(commonPrefix(s, prefix)) : "";
        all.append(delta);
        ids = new ArrayList<>();
        prefix = "";
        prefixIndex = 0;
        return delta;
    }

    /** Everything returned so far. */
    public String text() {
        return all.toString();
    }

    private static int commonPrefix(String a, String b) {
        int n = Math.min(a.length(), b.length()), i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) i++;
        return i;
    }

    private String decode(List<Integer> l) {
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) a[i] = l.get(i);
        return tokenizer.decode(a, skipSpecial);
    }
}
