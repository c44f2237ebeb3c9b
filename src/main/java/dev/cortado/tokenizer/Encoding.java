package dev.cortado.tokenizer;

import java.util.Arrays;

/**
 * The result of {@link Tokenizer#encode}: token ids, their vocabulary strings, type ids (segment ids) and the
 * attention mask (1 for real tokens, 0 for padding). All four arrays have the same length.
 */
public record Encoding(int[] ids, String[] tokens, int[] typeIds, int[] attentionMask) {
    public int length() {
        return ids.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Encoding e && Arrays.equals(ids, e.ids) && Arrays.equals(tokens, e.tokens)
                && Arrays.equals(typeIds, e.typeIds) && Arrays.equals(attentionMask, e.attentionMask);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ids);
    }

    @Override
    public String toString() {
        return "Encoding" + Arrays.toString(ids);
    }
}
