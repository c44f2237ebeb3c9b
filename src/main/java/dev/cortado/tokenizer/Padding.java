package dev.cortado.tokenizer;

import dev.cortado.CortadoException;

/**
 * Padding: to a fixed length ({@code fixedLength != null}) or to the longest encoding of the batch, optionally
 * rounded up to a multiple; pads with {@code padId}/{@code padToken}, attention mask 0.
 */
public record Padding(Integer fixedLength, boolean left, Integer multipleOf, int padId, int padTypeId, String padToken) {
    /** The longest padded length accepted (a bigger fixed length or multiple is a broken file, not a real limit). */
    public static final int MAX_LENGTH = 1 << 20;

    public Padding {
        if (fixedLength != null && (fixedLength < 0 || fixedLength > MAX_LENGTH))
            throw new CortadoException("padding length " + fixedLength + " is not allowed: expected 0.." + MAX_LENGTH);
        if (multipleOf != null && (multipleOf < 1 || multipleOf > MAX_LENGTH))
            throw new CortadoException("padding pad_to_multiple_of " + multipleOf + " is not allowed: expected 1.."
                    + MAX_LENGTH);
        if (padId < 0) throw new CortadoException("padding pad_id " + padId + " is not allowed: expected an id >= 0");
        if (padTypeId < 0)
            throw new CortadoException("padding pad_type_id " + padTypeId + " is not allowed: expected an integer >= 0");
        if (padToken == null) throw new CortadoException("padding pad_token is missing");
    }

    /** Pads a batch on the right to its longest member. */
    public static Padding batchLongest(int padId, String padToken) {
        return new Padding(null, false, null, padId, 0, padToken);
    }

    /**
     * tokenizer.json {@code padding}: {@code strategy} "BatchLongest" or {"Fixed": n} with n in 0..2^20,
     * {@code direction} Left|Right, {@code pad_to_multiple_of} null or 1..2^20, {@code pad_id}/{@code pad_type_id} >= 0.
     */
    static Padding fromJson(Json j) {
        Integer fixed = null;
        Json strategy = j.opt("strategy");
        if (strategy != null) {
            if (strategy.node().isObject() && strategy.node().size() == 1 && strategy.has("Fixed")) {
                fixed = strategy.integer("Fixed", 0, 0, MAX_LENGTH);
            } else if (!(strategy.node().isTextual() && strategy.node().textValue().equals("BatchLongest"))) {
                throw strategy.error(Json.oneLine(strategy.node().toString())
                        + " is not allowed: expected \"BatchLongest\" or {\"Fixed\": n}");
            }
        }
        Integer multiple = j.has("pad_to_multiple_of") ? j.integer("pad_to_multiple_of", 1, 1, MAX_LENGTH) : null;
        return new Padding(fixed, j.oneOf("direction", "Right", "Right", "Left").equals("Left"), multiple,
                j.integer("pad_id", 0, 0, Integer.MAX_VALUE), j.integer("pad_type_id", 0, 0, Integer.MAX_VALUE),
                j.str("pad_token", "[PAD]"));
    }

    int target(int longest) {
        int len = fixedLength != null ? fixedLength : longest;
        if (multipleOf != null && len % multipleOf != 0) len += multipleOf - len % multipleOf;
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
