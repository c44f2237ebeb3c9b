package dev.cortado.tokenizer;

import dev.cortado.CortadoException;

/** Truncation of single sequences: keep at most {@code maxLength} tokens, special tokens included. */
public record Truncation(int maxLength, boolean left) {
    public Truncation {
        if (maxLength < 1)
            throw new CortadoException("truncation max_length " + maxLength + " is not allowed: expected an integer >= 1");
    }

    /**
     * tokenizer.json {@code truncation}: {@code max_length} >= 1, {@code stride} in 0..max_length-1,
     * {@code strategy} LongestFirst|OnlyFirst|OnlySecond, {@code direction} Left|Right.
     */
    static Truncation fromJson(Json j) {
        int max = j.integer("max_length", -1, 1, Integer.MAX_VALUE);
        if (max < 0) throw j.error("missing field 'max_length' (an integer >= 1)");
        int stride = j.integer("stride", 0, 0, Integer.MAX_VALUE);
        if (stride >= max)
            throw j.get("stride").error(stride + " is not allowed: the stride must be below max_length (" + max + ")");
        j.oneOf("strategy", "LongestFirst", "LongestFirst", "OnlyFirst", "OnlySecond");
        return new Truncation(max, j.oneOf("direction", "Right", "Right", "Left").equals("Left"));
    }
}
