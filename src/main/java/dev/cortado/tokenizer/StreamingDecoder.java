package dev.cortado.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Incremental detokenization for generation: {@link #push} takes one id and returns the new text, never splitting a
 * UTF-8 character (bytes of an unfinished character are held back until it completes) and keeping the spacing that
 * decoding the whole sequence would give (Metaspace/Strip first-token rules, WordPiece joins).
 *
 * <p>Method: decode the ids since a checkpoint, return what follows the text already returned; once the decoded text
 * no longer ends in U+FFFD, the checkpoint moves forward (keeping a few ids of left context). Not thread-safe.
 */
public final class StreamingDecoder {
    private static final int CONTEXT = 4;
    private final Tokenizer tokenizer;
    private final boolean skipSpecial;
    private final List<Integer> ids = new ArrayList<>();
    private int prefixStart; // ids[prefixStart..] are decoded together
    private int prefixLen;   // chars of decode(ids[prefixStart..readIndex]) already returned (as context)
    private int readIndex;
    private final StringBuilder all = new StringBuilder();

    StreamingDecoder(Tokenizer tokenizer, boolean skipSpecial) {
        this.tokenizer = tokenizer;
        this.skipSpecial = skipSpecial;
    }

    /** Adds one id; returns the text it completes (possibly empty). */
    public String push(int id) {
        ids.add(id);
        String prefix = decode(prefixStart, readIndex);
        String full = decode(prefixStart, ids.size());
        if (full.endsWith("\uFFFD") && !endsWithCompleteReplacement(id)) return "";
        String delta = full.length() >= prefix.length() && full.startsWith(prefix) ? full.substring(prefix.length())
                : full.substring(Math.min(prefixLen, full.length()));
        readIndex = ids.size();
        if (readIndex - prefixStart > CONTEXT) {
            prefixStart = readIndex - CONTEXT;
        }
        prefixLen = decode(prefixStart, readIndex).length();
        all.append(delta);
        return delta;
    }

    /** Whether the trailing U+FFFD is final (the id is a whole token that itself decodes to U+FFFD). */
    private boolean endsWithCompleteReplacement(int id) {
        return tokenizer.decode(new int[] {id}, skipSpecial).endsWith("\uFFFD") && ids.size() - readIndex > 4;
    }

    /** Everything returned so far. */
    public String text() {
        return all.toString();
    }

    private String decode(int from, int to) {
        int[] a = new int[to - from];
        for (int i = from; i < to; i++) a[i - from] = ids.get(i);
        return tokenizer.decode(a, skipSpecial);
    }
}
