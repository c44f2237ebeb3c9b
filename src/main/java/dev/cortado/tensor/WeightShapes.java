package dev.cortado.tensor;

/**
 * A map of weights whose values are converted when first read (GGUF tensors: dequantized, re-laid-out or un-permuted
 * one at a time, right before a backend binds them). It tells a weight's row-major shape without converting it, so a
 * loader can check shapes and sizes first and read only what it binds.
 */
public interface WeightShapes {
    /** The row-major shape of weight {@code name}, or null when the map has no such weight. */
    long[] shapeOf(String name);

    /**
     * What stored tensor {@code name} reads (equal for two names that read one tensor: a tied GGUF head and its
     * embedding), without converting it; null when unknown.
     */
    default Object sourceOf(String name) {
        return null;
    }

    /**
     * How quantized weight {@code name} converts (its bits and block size, as a string), without converting it: two
     * weights of different layouts cannot be stacked into one matrix. Null when unknown or not quantized.
     */
    default String layoutOf(String name) {
        return null;
    }
}
