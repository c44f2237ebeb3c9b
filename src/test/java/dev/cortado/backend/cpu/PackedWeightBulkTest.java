package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cortado.tensor.DType;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Quantizer;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The bulk {@link PackedWeight#pack} writes the same bytes as the element-by-element loops it replaced (main at
 * 251d098, reproduced below over the new weight's layout fields): float packing for every source/target type and
 * both layouts, quantized packing for int8, int4, odd blocks (int4 stored as 8-bit codes), float32 and float16 scales.
 */
class PackedWeightBulkTest {
    @Test
    void floatPackingSameBytes() {
        Random rnd = new Random(3);
        for (int[] sh : new int[][] {{64, 96}, {37, 70}, {5, 129}, {96, 70 * PackedWeight.NR + 5}}) {
            for (DType src : new DType[] {DType.F32, DType.F16, DType.BF16, DType.F64}) {
                for (DType target : new DType[] {DType.F32, DType.BF16, DType.F16}) {
                    for (boolean transposed : new boolean[] {true, false}) {
                        Tensor w = dev.cortado.tensor.QuantizerBulkTestAccess.random(rnd, src, sh[0], sh[1]);
                        try (Arena a = Arena.ofShared()) {   // shared: panels are packed on all cores
                            PackedWeight p = PackedWeight.pack(w, transposed, target, a);
                            MemorySegment want = a.allocate(p.data.byteSize(), 64);
                            oldFloatPack(w, transposed, p, want);
                            assertEquals(-1L, want.mismatch(p.data), src + "→" + target + " " + sh[0] + "×" + sh[1] + " t=" + transposed);
                        }
                    }
                }
            }
        }
    }

    @Test
    void quantPackingSameBytes() {
        Random rnd = new Random(5);
        for (int[] sh : new int[][] {{64, 96}, {37, 172}, {70, 64}, {40 * PackedWeight.NR + 3, 64}}) {
            for (int bits : new int[] {8, 4}) {
                for (boolean half : new boolean[] {true, false}) {
                    Tensor w = dev.cortado.tensor.QuantizerBulkTestAccess.random(rnd, DType.F32, sh[0], sh[1]);
                    try (Arena a = Arena.ofShared()) {
                        QuantizedMatrix q = Quantizer.quantize(w, true, bits, a);
                        PackedWeight p = PackedWeight.pack(q, a, half);
                        MemorySegment want = a.allocate(p.data.byteSize(), 64);
                        oldQuantPack(q, p, want);
                        assertEquals(-1L, want.mismatch(p.data), "int" + bits + " " + sh[0] + "×" + sh[1] + " half=" + half + " " + p);
                    }
                }
            }
        }
    }

    /** The float loop of PackedWeight.pack before the bulk rewrite, writing into d with p's layout. */
    private static void oldFloatPack(Tensor src, boolean transposed, PackedWeight p, MemorySegment d) {
        int k = p.k, n = p.n, NR = PackedWeight.NR;
        PackedWeight.Format f = p.format;
        MemorySegment s = src.data();
        DType sd = src.dtype();
        boolean raw16 = (sd == DType.BF16 && f == PackedWeight.Format.BF16) || (sd == DType.F16 && f == PackedWeight.Format.F16);
        for (int pi = 0, panels = p.panels(); pi < panels; pi++) {
            int j0 = pi * NR, width = Math.min(NR, n - j0);
            long base = pi * p.panelBytes;
            for (int kk = 0; kk < k; kk++) {
                long o = base + (long) kk * NR * (f == PackedWeight.Format.F32 ? 4 : 2);
                for (int j = 0; j < width; j++) {
                    long i = transposed ? (long) (j0 + j) * k + kk : (long) kk * n + j0 + j;
                    if (raw16) {
                        d.set(Tensor.I16_LE, o + 2L * j, s.getAtIndex(Tensor.I16_LE, i));
                    } else {
                        float v = src.getFloat(i);
                        if (f == PackedWeight.Format.F32) d.set(Tensor.F32_LE, o + 4L * j, v);
                        else if (f == PackedWeight.Format.BF16) d.set(Tensor.I16_LE, o + 2L * j, PackedWeight.toBf16(v));
                        else d.set(Tensor.I16_LE, o + 2L * j, Float.floatToFloat16(v));
                    }
                }
            }
        }
    }

    /** The quantized loop of PackedWeight.pack before the bulk rewrite, writing into d with p's layout. */
    private static void oldQuantPack(QuantizedMatrix q, PackedWeight p, MemorySegment d) {
        int n = q.rows(), bs = q.blockSize(), NR = PackedWeight.NR;
        PackedWeight.Format f = p.format;
        long codeBytes = f == PackedWeight.Format.Q8 ? (long) bs * NR : (long) bs / 2 * NR;
        for (int pi = 0, panels = p.panels(); pi < panels; pi++) {
            int j0 = pi * NR, width = Math.min(NR, n - j0);
            for (int b = 0; b < p.blocks(); b++) {
                long base = pi * p.panelBytes + b * p.blockBytes;
                for (int j = 0; j < width; j++) {
                    int r = j0 + j;
                    if (f == PackedWeight.Format.Q8) {
                        for (int kk = 0; kk < bs; kk++) d.set(ValueLayout.JAVA_BYTE, base + (long) kk * NR + j, (byte) q.code(r, b * bs + kk));
                    } else {
                        for (int kp = 0; kp < bs / 2; kp++) {
                            int c = b * bs + 2 * kp;
                            d.set(ValueLayout.JAVA_BYTE, base + (long) kp * NR + j, (byte) (q.code(r, c) | q.code(r, c + 1) << 4));
                        }
                    }
                    if (p.half) {
                        d.set(Tensor.I16_LE, base + codeBytes + 2L * j, Float.floatToFloat16(q.scale(r, b)));
                        if (p.offsets) d.set(Tensor.I16_LE, base + codeBytes + 2L * NR + 2L * j, Float.floatToFloat16(q.offset(r, b)));
                    } else {
                        d.set(Tensor.F32_LE, base + codeBytes + 4L * j, q.scale(r, b));
                        if (p.offsets) d.set(Tensor.F32_LE, base + codeBytes + 4L * NR + 4L * j, q.offset(r, b));
                    }
                }
            }
        }
    }
}
