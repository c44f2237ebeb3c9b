package dev.cortado.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The bulk {@link Quantizer} writes the same bytes as the element-by-element one it replaced ({@link ScalarQuantizer},
 * main at 251d098): int8 and int4, both layouts, float32/16/bf16/float64 sources, block sizes 32 and odd ones (43),
 * blocks centred on zero with an outlier (the symmetric int4 encoding) and all-zero blocks. The int4/int8 goldens and
 * perplexity tests pin the numbers against outside references; this pins the refactor.
 */
class QuantizerBulkTest {
    @Test
    void sameBytesAsTheScalarQuantizer() {
        Random rnd = new Random(7);
        int[][] shapes = {{64, 96}, {37, 172}, {40, 64}, {48, 86}, {34, 45}, {96, 43}};
        for (int[] sh : shapes) {
            for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16, DType.F64}) {
                for (boolean transposed : new boolean[] {true, false}) {
                    Tensor w = random(rnd, dt, sh[0], sh[1]);
                    for (int bits : new int[] {8, 4}) {
                        try (Arena a = Arena.ofConfined()) {
                            QuantizedMatrix got = Quantizer.quantize(w, transposed, bits, a), want = ScalarQuantizer.quantize(w, transposed, bits, a);
                            String what = dt + " " + sh[0] + "×" + sh[1] + (transposed ? " [out,in]" : " [in,out]") + " int" + bits;
                            assertEquals(want.bits(), got.bits(), what);
                            assertEquals(want.blockSize(), got.blockSize(), what);
                            same(want.values(), got.values(), what + " codes");
                            same(want.scales(), got.scales(), what + " scales");
                            if (want.offsets() != null) same(want.offsets(), got.offsets(), what + " offsets");
                            assertEquals(want.offsets() == null, got.offsets() == null, what);
                        }
                    }
                    if ((transposed ? sh[1] : sh[0]) % 32 == 0) {
                        for (boolean zp : new boolean[] {false, true}) {
                            try (Arena a = Arena.ofConfined()) {
                                QuantizedMatrix got = Quantizer.quantizeNBits(w, transposed, zp, a), want = ScalarQuantizer.quantizeNBits(w, transposed, zp, a);
                                same(want.values(), got.values(), "nbits codes " + dt);
                                same(want.scales(), got.scales(), "nbits scales " + dt);
                                same(want.offsets(), got.offsets(), "nbits offsets " + dt);
                            }
                        }
                    }
                }
            }
        }
    }

    /** Enough rows to run on several cores (a shared arena) and to cross the 1024-row stretches: still the same bytes. */
    @Test
    void parallelSameBytes() {
        Random rnd = new Random(11);
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            for (boolean transposed : new boolean[] {true, false}) {
                Tensor w = transposed ? random(rnd, dt, 1300, 96) : random(rnd, dt, 96, 1300);
                for (int bits : new int[] {8, 4}) {
                    try (Arena a = Arena.ofShared(); Arena c = Arena.ofConfined()) {
                        QuantizedMatrix got = Quantizer.quantize(w, transposed, bits, a), want = ScalarQuantizer.quantize(w, transposed, bits, c);
                        String what = dt + (transposed ? " [out,in]" : " [in,out]") + " int" + bits;
                        same(want.values(), got.values(), what + " codes");
                        same(want.scales(), got.scales(), what + " scales");
                        if (bits == 4) same(want.offsets(), got.offsets(), what + " offsets");
                    }
                }
            }
        }
    }

    /** Random weights with structure: some blocks centred with one outlier, some all zero, some shifted. */
    static Tensor random(Random rnd, DType dt, int d0, int d1) {
        int n = d0 * d1;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            int block = i / 16;
            v[i] = switch (block % 5) {
                case 0 -> (float) rnd.nextGaussian() * 0.05f;
                case 1 -> i % 16 == 3 ? 1.7f : (float) rnd.nextGaussian() * 0.01f;
                case 2 -> 0f;
                case 3 -> 0.3f + rnd.nextFloat() * 0.2f;
                default -> (float) rnd.nextGaussian() * 3f;
            };
        }
        if (n > 200) {   // special values: NaN, ±infinity and −0 in a few blocks, ties of magnitude (x and −x)
            v[37] = Float.NaN;
            v[70] = Float.POSITIVE_INFINITY;
            v[101] = Float.NEGATIVE_INFINITY;
            v[130] = -0f;
            v[131] = -0f;
            v[150] = 0.25f;
            v[151] = -0.25f;
            v[190] = -0.5f;
            v[191] = 0.5f;
        }
        Tensor t = Tensor.allocate(Arena.ofAuto(), dt, d0, d1);
        for (int i = 0; i < n; i++) {
            switch (dt) {
                case F32 -> t.data().setAtIndex(Tensor.F32_LE, i, v[i]);
                case F16 -> t.data().setAtIndex(Tensor.I16_LE, i, Float.floatToFloat16(v[i]));
                case BF16 -> t.data().setAtIndex(Tensor.I16_LE, i, (short) (Float.floatToRawIntBits(v[i]) >>> 16));
                case F64 -> t.data().setAtIndex(Tensor.F64_LE, i, v[i] * 1.0000001);
                default -> throw new IllegalArgumentException();
            }
        }
        return t;
    }

    static void same(MemorySegment want, MemorySegment got, String what) {
        assertEquals(want.byteSize(), got.byteSize(), what + ": size");
        long m = want.mismatch(got);
        assertEquals(-1L, m, what + ": first differing byte");
    }
}
