package dev.cortado.model;

import dev.cortado.CortadoException;
import dev.cortado.tensor.Tensor;
import java.util.Arrays;

/**
 * Checks a weight (from safetensors or an ONNX initializer) against what the family's weight map expects, before it
 * reaches a backend: a float dtype (F32, F16, BF16, F64 are widened or kept 16-bit; integer tensors are never
 * reinterpreted as weights), the rank and every dimension. Errors are one line naming the source, the tensor, the
 * expected and the actual shape.
 */
public final class TensorCheck {
    private TensorCheck() {}

    /** {@code t} with a float dtype. */
    public static Tensor floats(String source, String name, Tensor t) {
        if (!t.dtype().isFloat()) {
            throw new CortadoException(source + ": tensor '" + name + "' has dtype " + t.dtype() + " " + Arrays.toString(t.shape())
                    + ", expected a float weight (F32, F16, BF16 or F64)");
        }
        return t;
    }

    /** {@code t} with a float dtype and exactly {@code expected} as its shape ({@code -1}: any size ≥ 1). */
    public static Tensor shape(String source, String name, Tensor t, long... expected) {
        floats(source, name, t);
        dims(source, name, t.shape(), expected);
        return t;
    }

    /** {@code s} (a weight's shape) equal to {@code expected} ({@code -1}: any size ≥ 1). */
    public static long[] dims(String source, String name, long[] s, long... expected) {
        boolean ok = s.length == expected.length;
        for (int i = 0; ok && i < s.length; i++) ok = expected[i] < 0 ? s[i] >= 1 : s[i] == expected[i];
        if (!ok) {
            throw new CortadoException(source + ": tensor '" + name + "' has shape " + Arrays.toString(s) + ", expected "
                    + show(expected));
        }
        return s;
    }

    /**
     * A vector of {@code n} floats: shape [n], or [1, n] and the like (ONNX biases, final_logits_bias), returned as
     * [n]; 16-bit and F64 vectors (norm gammas, biases: tiny) are widened to float32, which the backends expect there.
     */
    public static Tensor vector(String source, String name, Tensor t, long n) {
        floats(source, name, t);
        long[] s = t.shape();
        int big = 0;
        for (long d : s) if (d != 1) big++;
        if (t.numel() != n || big > 1 || s.length == 0) {
            throw new CortadoException(source + ": tensor '" + name + "' has shape " + Arrays.toString(s) + ", expected [" + n + "]");
        }
        if (t.dtype() != dev.cortado.tensor.DType.F32) return Tensor.of(t.toFloatArray(), n);
        return t.rank() == 1 ? t : t.reshape(n);
    }

    private static String show(long[] e) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < e.length; i++) sb.append(i > 0 ? ", " : "").append(e[i] < 0 ? "*" : Long.toString(e[i]));
        return sb.append(']').toString();
    }
}
