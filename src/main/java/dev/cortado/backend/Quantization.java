package dev.cortado.backend;

import dev.cortado.CortadoException;

/**
 * Load-time quantization of float linear weights ({@code --quantize int8|int4}, {@code --quantize-all}): {@code bits}
 * 0 (off), 8 or 4; {@code all} also quantizes the vocabulary projection (lm_head) and the embedding tables, which
 * otherwise stay 16-bit. See {@link dev.cortado.tensor.Quantizer} for the rounding.
 */
public record Quantization(int bits, boolean all) {
    public static final Quantization NONE = new Quantization(0, false);

    public Quantization {
        if (bits != 0 && bits != 8 && bits != 4) throw new CortadoException("quantization to " + bits + " bits: use int8 or int4");
    }

    public boolean enabled() {
        return bits != 0;
    }

    /** {@code --quantize}: null/none/off, int8 or int4; {@code all} from {@code --quantize-all}. */
    public static Quantization parse(String s, boolean all) {
        if (s == null || s.equalsIgnoreCase("none") || s.equalsIgnoreCase("off")) {
            if (all) throw new CortadoException("--quantize-all needs --quantize int8 or int4");
            return NONE;
        }
        return switch (s.toLowerCase()) {
            case "int8", "q8", "8" -> new Quantization(8, all);
            case "int4", "q4", "4" -> new Quantization(4, all);
            default -> throw new CortadoException("unknown --quantize '" + s + "' (use int8 or int4)");
        };
    }

    @Override
    public String toString() {
        return enabled() ? "int" + bits + (all ? " (all)" : "") : "none";
    }
}
