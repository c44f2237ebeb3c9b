package dev.cortado.tokenizer;

/**
 * Padding: to a fixed length ({@code fixedLength != null}) or to the longest encoding of the batch, optionally
 * rounded up to a multiple; pads with {@code padId}/{@code padToken}, attention mask 0.
 */
public record Padding(Integer fixedLength, boolean left, Integer multipleOf, int padId, int padTypeId, String padToken) {

    /** Pads a batch on the right to its longest member. */
    public static Padding batchLongest(int padId, String padToken) {
        return new Padding(null, false, null, padId, 0, padToken);
    }

    static Padding fromJson(Json j) {
        Integer fixed = null;
        Json strategy = j.opt("strategy");
        if (strategy != null && strategy.node().isObject() && strategy.has("Fixed")) fixed = strategy.integer("Fixed");
        Integer multiple = j.has("pad_to_multiple_of") ? j.integer("pad_to_multiple_of") : null;
        return new Padding(fixed, j.str("direction", "Right").equals("Left"), multiple, j.integer("pad_id", 0),
                j.integer("pad_type_id", 0), j.str("pad_token", "[PAD]"));
    }

    int target(int longest) {
        int len = fixedLength != null ? fixedLength : longest;
        if (multipleOf != null && multipleOf > 0 && len % multipleOf != 0) len += multipleOf - len % multipleOf;
        return len;
    }

    Encoding pad(Encoding e, int target) {
        int n = e.length();
        if (n >= target) return e;
        int[] ids = new int[target], type = new int[target], mask = new int[target];
        String[] toks = new String[target];
        int off = left ? target - n : 0;
        int padOff = left ? 0 : n;
        System.arraycopy(e.ids(), 0, ids, off, n);
        System.arraycopy(e.typeIds(), 0, type, off, n);
        System.arraycopy(e.attentionMask(), 0, mask, off, n);
        System.arraycopy(e.tokens(), 0, toks, off, n);
        for (int i = padOff; i < padOff + target - n; i++) {
            ids[i] = padId;
            type[i] = padTypeId;
            toks[i] = padToken;
        }
        return new Encoding(ids, toks, type, mask);
    }
}
