package dev.cortado.model;

import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** Load-time helpers that cut fused weights (GPT-2's c_attn) into per-projection host tensors. */
public final class Slicing {
    private Slicing() {}

    /** Columns [from, to) of a 2-D tensor [rows, cols] as a new float32 tensor [rows, to - from]. */
    public static Tensor columns(Tensor t, int from, int to) {
        int rows = (int) t.dim(0), cols = (int) t.dim(1), w = to - from;
        float[] out = new float[rows * w];
        for (int r = 0; r < rows; r++) for (int c = 0; c < w; c++) out[r * w + c] = t.getFloat((long) r * cols + from + c);
        return new Tensor(DType.F32, new long[] {rows, w}, MemorySegment.ofArray(out));
    }

    /** Rows [from, to) of a 2-D tensor, or elements [from, to) of a 1-D tensor, as a new float32 tensor. */
    public static Tensor rows(Tensor t, int from, int to) {
        long inner = t.rank() == 1 ? 1 : t.dim(1);
        float[] out = new float[(int) ((to - from) * inner)];
        for (int i = 0; i < out.length; i++) out[i] = t.getFloat(from * inner + i);
        long[] shape = t.rank() == 1 ? new long[] {to - from} : new long[] {to - from, inner};
        return new Tensor(DType.F32, shape, MemorySegment.ofArray(out));
    }
}
