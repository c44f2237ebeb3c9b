package dev.cortado.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.cortado.tensor.DType;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Load-time concatenation of q|k|v and gate|up weights: element by element against the parts. */
class FusionTest {
    static Tensor seq(int rows, int cols, float base) {
        float[] a = new float[rows * cols];
        for (int i = 0; i < a.length; i++) a[i] = base + i;
        return Tensor.of(a, rows, cols);
    }

    @Test
    void rowsStackOutputFeaturesAndColumnsSitSideBySide() {
        Tensor q = seq(4, 3, 0), k = seq(2, 3, 100), v = seq(2, 3, 200);
        Tensor rows = Fusion.concatRows(List.of(q, k, v));
        assertArrayEquals(new long[] {8, 3}, rows.shape());
        for (int r = 0; r < 8; r++) {
            Tensor part = r < 4 ? q : r < 6 ? k : v;
            int pr = r < 4 ? r : r < 6 ? r - 4 : r - 6;
            for (int c = 0; c < 3; c++) assertEquals(part.getFloat(pr * 3L + c), rows.getFloat(r * 3L + c));
        }
        Tensor a = seq(3, 4, 0), b = seq(3, 2, 50);
        Tensor cols = Fusion.concatColumns(List.of(a, b));
        assertArrayEquals(new long[] {3, 6}, cols.shape());
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 6; c++) {
                assertEquals(c < 4 ? a.getFloat(r * 4L + c) : b.getFloat(r * 2L + c - 4), cols.getFloat(r * 6L + c));
            }
        }
    }

    @Test
    void bf16PartsStaySixteenBitAndMissingBiasesAreZeros() {
        short[] bits = {0x3f80, 0x4000, 0x4040, 0x4080};   // 1, 2, 3, 4 in bfloat16
        Tensor x = new Tensor(DType.BF16, new long[] {2, 2}, MemorySegment.ofArray(bits));
        Tensor both = Fusion.concatRows(List.of(x, x));
        assertEquals(DType.BF16, both.dtype());
        assertArrayEquals(new float[] {1, 2, 3, 4, 1, 2, 3, 4}, both.toFloatArray());
        Tensor bias = Fusion.concatBiases(Arrays.asList(Tensor.of(new float[] {1, 2}, 2), null), new long[] {2, 3});
        assertArrayEquals(new float[] {1, 2, 0, 0, 0}, bias.toFloatArray());
        assertNull(Fusion.concatBiases(Arrays.asList(null, null), new long[] {2, 3}));
    }

    @Test
    void quantizedRowsConcatenateWhenBitsAndBlocksMatch() {
        QuantizedMatrix a = q8(2, 4, 1), b = q8(3, 4, 10);
        QuantizedMatrix ab = Fusion.concatRows(a, b);
        assertEquals(5, ab.rows());
        for (int r = 0; r < 5; r++) {
            for (int c = 0; c < 4; c++) assertEquals(r < 2 ? a.get(r, c) : b.get(r - 2, c), ab.get(r, c));
        }
        QuantizedMatrix other = new QuantizedMatrix(2, 4, 8, 4, MemorySegment.ofArray(new byte[8]), MemorySegment.ofArray(new byte[8]), null);
        assertNull(Fusion.concatRows(a, other), "different block sizes stay separate");
    }

    /** 8-bit, block 2, with offsets. */
    static QuantizedMatrix q8(int rows, int cols, int seed) {
        byte[] v = new byte[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (byte) (seed + i * 3 - 7);
        float[] s = new float[rows * cols / 2], o = new float[rows * cols / 2];
        for (int i = 0; i < s.length; i++) {
            s[i] = 0.5f + i;
            o[i] = seed - i;
        }
        return new QuantizedMatrix(rows, cols, 8, 2, MemorySegment.ofArray(v), Tensor.of(s, s.length).data(), Tensor.of(o, o.length).data());
    }
}
