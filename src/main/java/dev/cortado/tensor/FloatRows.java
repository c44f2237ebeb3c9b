package dev.cortado.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Reads rows of a 2-D float weight into a float[] in bulk (one {@link MemorySegment#copy} per row or per strided slice
 * instead of a bounds-checked {@link Tensor#getFloat} per element): the load-time quantizer's and packer's input.
 * The logical matrix is [rows, cols] = [out, in]; {@code outIn} says the tensor holds it as is (PyTorch Linear layout),
 * otherwise as [in, out] (ONNX MatMul layout), where a row is a strided column of the tensor. Values equal
 * {@link Tensor#getFloat} bit for bit (float16 and bfloat16 widen exactly; float64 narrows as its cast does).
 */
public final class FloatRows {
    /** Rows a caller should read at once from an [in, out] tensor: 16 floats per slice fill a cache line. */
    public static final int GROUP = 16;

    private final Tensor w;
    private final boolean outIn;
    private final int rows, cols;
    private final MemorySegment s;
    private float[] floats = new float[0];
    private short[] shorts = new short[0];

    public FloatRows(Tensor w, boolean outIn) {
        if (w.rank() != 2) throw new IllegalArgumentException("expected a 2-D weight: " + w);
        if (w.isOnDevice()) throw new IllegalStateException("device tensor " + w + " cannot be read on the host; use Backend.toHost");
        this.w = w;
        this.outIn = outIn;
        this.rows = (int) w.dim(outIn ? 0 : 1);
        this.cols = (int) w.dim(outIn ? 1 : 0);
        this.s = w.data();
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Rows [r0, r0 + n) into {@code dst[j·cols + c]} = element (r0 + j, c). */
    public void read(int r0, int n, float[] dst) {
        if (r0 < 0 || n < 0 || r0 + n > rows || dst.length < n * cols) throw new IndexOutOfBoundsException("rows " + r0 + "+" + n + " of " + w);
        if (outIn) readContiguous((long) r0 * cols, n * cols, dst, 0);
        else {
            float[] t = floats.length >= n ? floats : (floats = new float[n]);
            for (int c = 0; c < cols; c++) {
                readContiguous((long) c * rows + r0, n, t, 0);
                for (int j = 0, o = c; j < n; j++, o += cols) dst[o] = t[j];
            }
        }
    }

    /** Elements [from, from + n) of the tensor (flat index) into dst[at, at + n). */
    private void readContiguous(long from, int n, float[] dst, int at) {
        switch (w.dtype()) {
            case F32 -> MemorySegment.copy(s, Tensor.F32_LE, from * 4, dst, at, n);
            case F16, BF16 -> {
                short[] h = shorts.length >= n ? shorts : (shorts = new short[n]);
                MemorySegment.copy(s, Tensor.I16_LE, from * 2, h, 0, n);
                if (w.dtype() == DType.F16) for (int i = 0; i < n; i++) dst[at + i] = Float.float16ToFloat(h[i]);
                else for (int i = 0; i < n; i++) dst[at + i] = Float.intBitsToFloat((h[i] & 0xffff) << 16);
            }
            default -> {
                for (int i = 0; i < n; i++) dst[at + i] = w.getFloat(from + i);
            }
        }
    }
}
