package dev.cortado.generate;

import java.util.Arrays;

/**
 * The non-padding token ids of one sequence (prompt then generated), as logits processors see them. For an
 * encoder-decoder model these are decoder ids (decoder_start_token_id, prefix, generated).
 */
public final class TokenHistory {
    private int[] ids;
    private int length;
    private final int promptLength;
    private final int maxLength;

    /** {@code maxLength}: the total length (prompt + generated) at which this sequence stops. */
    public TokenHistory(int[] prompt, int maxLength) {
        this.ids = Arrays.copyOf(prompt, Math.max(prompt.length + 8, 16));
        this.length = prompt.length;
        this.promptLength = prompt.length;
        this.maxLength = maxLength;
    }

    private TokenHistory(TokenHistory o) {
        this.ids = o.ids.clone();
        this.length = o.length;
        this.promptLength = o.promptLength;
        this.maxLength = o.maxLength;
    }

    public int get(int i) {
        return ids[i];
    }

    public int length() {
        return length;
    }

    public int promptLength() {
        return promptLength;
    }

    public int generatedLength() {
        return length - promptLength;
    }

    public int maxLength() {
        return maxLength;
    }

    public int last() {
        return ids[length - 1];
    }

    public int[] toArray() {
        return Arrays.copyOf(ids, length);
    }

    public int[] generated() {
        return Arrays.copyOfRange(ids, promptLength, length);
    }

    void append(int id) {
        if (length == ids.length) ids = Arrays.copyOf(ids, ids.length * 2);
        ids[length++] = id;
    }

    TokenHistory copy() {
        return new TokenHistory(this);
    }
}
