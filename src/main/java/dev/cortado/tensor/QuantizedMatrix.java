package dev.cortado.tensor;

import dev.cortado.CortadoException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A linear weight of {@code rows} output features × {@code cols} input features, quantized blockwise along the input
 * dimension: element {@code (r, c)} of block {@code b = c / blockSize} is
 * {@code scales[r, b] * q(r, c) + (offsets == null ? 0 : offsets[r, b])}.
 *
 * <p>The one canonical layout every quantized source is converted to (GGUF Q8_0/Q4_0/Q4_1, ONNX MatMulNBits,
 * {@code --quantize}); backends pack it further for their kernels.
 * <ul>
 *   <li>{@code bits == 8}: {@code values} holds {@code rows·cols} signed int8, row-major.</li>
 *   <li>{@code bits == 4}: {@code values} holds {@code rows·cols/2} bytes, row-major; element {@code c} of a row is
 *       the low nibble of byte {@code c/2} when {@code c} is even, the high nibble when odd; unsigned 0..15.
 *       (GGUF Q4_0 and MatMulNBits order nibbles differently: their readers repack.)</li>
 *   <li>{@code scales}, {@code offsets}: float32 little-endian, {@code rows × blocksPerRow}, row-major.
 *       Q4_0 (w = d·(q−8)) has offsets = −8·d; Q4_1 (w = d·q + m) has offsets = m; MatMulNBits with zero point z has
 *       offsets = −z·scale; symmetric int8 (Q8_0, per-channel) has none.</li>
 * </ul>
 * {@code blockSize} divides {@code cols} ({@code blockSize == cols}: one scale per output channel).
 * {@code int8Activations}: the source asks for activations quantized to int8 per block (MatMulNBits
 * {@code accuracy_level 4}); see the backend's Quantization.int8Activations.
 */
public record QuantizedMatrix(int rows, int cols, int bits, int blockSize, MemorySegment values, MemorySegment scales,
                              MemorySegment offsets, boolean int8Activations) {
    /** A matrix whose source says nothing about the activations (float). */
    public QuantizedMatrix(int rows, int cols, int bits, int blockSize, MemorySegment values, MemorySegment scales, MemorySegment offsets) {
        this(rows, cols, bits, blockSize, values, scales, offsets, false);
    }

    public QuantizedMatrix {
        if (bits != 4 && bits != 8) throw new CortadoException("quantized weight: " + bits + " bits, expected 4 or 8");
        if (rows <= 0 || cols <= 0 || blockSize <= 0 || cols % blockSize != 0) {
            throw new CortadoException("quantized weight: block size " + blockSize + " does not divide its " + cols
                    + " input features (" + rows + " × " + cols + ")");
        }
        if (bits == 4 && (cols & 1) != 0) throw new CortadoException("quantized weight: 4-bit rows need an even column count, got " + cols);
        long needValues = (long) rows * cols * bits / 8;
        long needScales = (long) rows * (cols / blockSize) * 4;
        if (values.byteSize() < needValues || scales.byteSize() < needScales || (offsets != null && offsets.byteSize() < needScales)) {
            throw new CortadoException("quantized weight " + rows + " × " + cols + " (" + bits + "-bit, block " + blockSize
                    + "): data too short");
        }
    }

    public int blocksPerRow() { return cols / blockSize; }

    /** The integer code of element (r, c): −128..127 for 8 bits, 0..15 for 4 bits. */
    public int code(int r, int c) {
        long i = (long) r * cols + c;
        if (bits == 8) return values.get(ValueLayout.JAVA_BYTE, i);
        int b = values.get(ValueLayout.JAVA_BYTE, i >> 1) & 0xff;
        return (c & 1) == 0 ? b & 0x0f : b >>> 4;
    }

    public float scale(int r, int block) {
        return scales.get(Tensor.F32_LE, ((long) r * blocksPerRow() + block) * 4);
    }

    public float offset(int r, int block) {
        return offsets == null ? 0f : offsets.get(Tensor.F32_LE, ((long) r * blocksPerRow() + block) * 4);
    }

    /** Element (r, c) as float: the reference every kernel is tested against. */
    public float get(int r, int c) {
        int b = c / blockSize;
        return scale(r, b) * code(r, c) + offset(r, b);
    }

    /** Dequantizes into a float32 tensor [rows, cols] (the HF [out, in] layout) on the heap. */
    public Tensor dequantize() {
        float[] out = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) out[r * cols + c] = get(r, c);
        return Tensor.of(out, rows, cols);
    }
}
