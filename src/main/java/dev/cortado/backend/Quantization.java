package dev.cortado.backend;

import dev.cortado.CortadoException;

/**
 * Load-time quantization of float linear weights ({@code --quantize int8|int4}, {@code --quantize-all}): {@code bits}
 * 0 (off), 8 or 4; {@code all} also quantizes the vocabulary projection (lm_head) and the embedding tables, which
 * otherwise stay 16-bit. See {@link dev.cortado.tensor.Quantizer} for the rounding.
 * <p>{@code int8Activations}: 4-bit weights (quantized here, read from GGUF or from MatMulNBits) multiply activations
 * quantized to int8 per weight block, with exact integer sums (ONNX Runtime's MatMulNBits {@code accuracy_level 4},
 * llama.cpp's Q4 × Q8 dot products) instead of float activations times dequantized weights: faster, and no longer exactly
 * the dequantized model ({@code --activations int8|float}; default int8 with {@code --quantize int4}, float otherwise).
 * CPU only; the CUDA kernels dequantize. {@code activationsChosen}: the mode was asked for ({@code --activations}) and
 * applies to every 4-bit weight, a MatMulNBits file's own {@code accuracy_level} included; otherwise it is the default
 * for these bits and a file's accuracy_level 4 still selects int8 for its weights.
 */
public record Quantization(int bits, boolean all, boolean int8Activations, boolean activationsChosen) {
    public static final Quantization NONE = new Quantization(0, false);

    public Quantization {
        if (bits != 0 && bits != 8 && bits != 4) throw new CortadoException("quantization to " + bits + " bits: use int8 or int4");
    }

    /** With the default activation mode: int8 for int4, float otherwise. */
    public Quantization(int bits, boolean all) {
        this(bits, all, bits == 4, false);
    }

    /** With 4-bit weights multiplying int8 (true) or float (false) activations, as chosen. */
    public Quantization(int bits, boolean all, boolean int8Activations) {
        this(bits, all, int8Activations, true);
    }

    /** This quantization with 4-bit weights multiplying int8 (true) or float (false) activations, as chosen. */
    public Quantization withInt8Activations(boolean on) {
        return new Quantization(bits, all, on, true);
    }

    /**
     * {@code --activations}: null (the default for these bits), int8 or float, applied to {@code q}.
     */
    public static Quantization activations(Quantization q, String s) {
        if (s == null) return q;
        return switch (s.toLowerCase()) {
            case "int8" -> q.withInt8Activations(true);
            case "float", "fp32", "f32" -> q.withInt8Activations(false);
            default -> throw new CortadoException("unknown --activations '" + s + "' (use int8 or float)");
        };
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
        String act = int8Activations == (bits == 4) ? "" : int8Activations ? ", int8 activations" : ", float activations";
        return (enabled() ? "int" + bits + (all ? " (all)" : "") : "none") + act;
    }
}
