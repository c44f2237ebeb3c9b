package dev.cortado.gguf;

import dev.cortado.CortadoException;
import dev.cortado.gguf.GgufFile.TensorInfo;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Converts GGUF tensors. Float tensors (F32, F16, BF16) become zero-copy {@link Tensor}s over the mapping.
 * Quantized ones (Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K) become a {@link QuantizedMatrix} losslessly: each scale and
 * offset is computed with the float32 operations of gguf-py's {@code dequantize} in the same order, so
 * {@code get(r, c)} equals gguf-py's value bit for bit (Q4_0: {@code d·q − 8d} is exact because d has 11 significant
 * bits and q 4; Q4_K/Q5_K: scale {@code d·sc}, offset {@code −(dmin·m)}; Q6_K: block 16, scale {@code d·sc}, codes q−32).
 */
public final class GgufTensors {
    private GgufTensors() {}

    private static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;

    /** An F32/F16/BF16 tensor in row-major shape, in place over the mapping (zero-copy). */
    public static Tensor view(TensorInfo t) {
        return switch (t.type()) {
            case F32 -> new Tensor(DType.F32, t.shape(), t.data());
            case F16 -> new Tensor(DType.F16, t.shape(), t.data());
            case BF16 -> new Tensor(DType.BF16, t.shape(), t.data());
            default -> throw new IllegalArgumentException("not a float tensor: " + t);
        };
    }

    /** A float tensor in row-major shape: F32/F16/BF16 in place over the mapping, quantized types dequantized to F32 in {@code arena}. */
    public static Tensor tensor(TensorInfo t, Arena arena) {
        return switch (t.type()) {
            case F32, F16, BF16 -> view(t);
            default -> {
                try (Arena tmp = Arena.ofConfined()) {
                    QuantizedMatrix q = quantized(t, tmp);
                    Tensor out = Tensor.allocate(arena, DType.F32, t.shape());
                    long i = 0;
                    for (int r = 0; r < q.rows(); r++) {
                        for (int c = 0; c < q.cols(); c++) out.data().setAtIndex(Tensor.F32_LE, i++, q.get(r, c));
                    }
                    yield out;
                }
            }
        };
    }

    /** Whether {@link #quantized} converts this type. */
    public static boolean isQuantized(GgmlType type) {
        return type.readable() && !type.isFloat();
    }

    /** The tensor as {@code rows (outer dims) × cols (ne[0])}, blockwise along cols, in {@code arena}. */
    public static QuantizedMatrix quantized(TensorInfo t, Arena arena) {
        GgmlType ty = t.type();
        if (!isQuantized(ty)) {
            throw new CortadoException("tensor '" + GgufFile.shown(t.name()) + "' has type " + ty + ", which Cortado does not read (supported: " + GgmlType.READABLE + ")");
        }
        if (t.rows() > Integer.MAX_VALUE || t.cols() > Integer.MAX_VALUE) throw new CortadoException("tensor '" + GgufFile.shown(t.name()) + "' is too large");
        int rows = (int) t.rows(), cols = (int) t.cols();
        int bits = bits(ty), block = block(ty);
        long n = (long) rows * cols;
        MemorySegment values = arena.allocate(n * bits / 8, 64);
        MemorySegment scales = arena.allocate(n / block * 4, 64);
        MemorySegment offsets = ty == GgmlType.Q8_0 || ty == GgmlType.Q6_K ? null : arena.allocate(n / block * 4, 64);
        MemorySegment src = t.data();
        long blocks = n / ty.blockSize;
        for (long b = 0; b < blocks; b++) {
            long s = b * ty.blockBytes;
            switch (ty) {
                case Q8_0 -> {
                    put(scales, b, f16(src, s));
                    MemorySegment.copy(src, s + 2, values, b * 32, 32);
                }
                case Q4_0, Q4_1 -> {
                    float d = f16(src, s);
                    put(scales, b, d);
                    put(offsets, b, ty == GgmlType.Q4_0 ? -8f * d : f16(src, s + 2));
                    long qs = s + (ty == GgmlType.Q4_0 ? 2 : 4);
                    for (int k = 0; k < 16; k++) {
                        values.set(B, b * 16 + k, (byte) (nibble(src, qs, 2 * k) | nibble(src, qs, 2 * k + 1) << 4));
                    }
                }
                case Q4_K, Q5_K -> kQuant(ty, src, s, b, values, scales, offsets);
                case Q6_K -> q6k(src, s, b, values, scales);
                default -> throw new IllegalStateException(ty.toString());
            }
        }
        return new QuantizedMatrix(rows, cols, bits, block, values, scales, offsets);
    }

    /** The bits of a {@link #quantized} code of this type: 4 for Q4_0, Q4_1 and Q4_K, else 8. */
    static int bits(GgmlType ty) {
        return ty == GgmlType.Q4_0 || ty == GgmlType.Q4_1 || ty == GgmlType.Q4_K ? 4 : 8;
    }

    /** The block size of a {@link #quantized} matrix of this type: 16 for Q6_K, else 32. */
    static int block(GgmlType ty) {
        return ty == GgmlType.Q6_K ? 16 : 32;
    }

    /** Q4_0/Q4_1 element e (0..31) of a block: e < 16 is the low nibble of byte e, else the high nibble of byte e−16. */
    private static int nibble(MemorySegment src, long qs, int e) {
        int v = src.get(B, qs + (e & 15)) & 0xff;
        return e < 16 ? v & 15 : v >>> 4;
    }

    /** Q4_K / Q5_K super-block of 256: 8 sub-blocks of 32 with 6-bit packed scales and mins. */
    private static void kQuant(GgmlType ty, MemorySegment src, long s, long b, MemorySegment values, MemorySegment scales, MemorySegment offsets) {
        float d = f16(src, s), dmin = f16(src, s + 2);
        long sc = s + 4, qh = s + 16, qs = ty == GgmlType.Q4_K ? s + 16 : s + 48;
        for (int j = 0; j < 8; j++) {
            int scale, min;
            if (j < 4) {
                scale = u8(src, sc + j) & 63;
                min = u8(src, sc + j + 4) & 63;
            } else {
                scale = (u8(src, sc + j + 4) & 0x0f) | ((u8(src, sc + j - 4) >>> 6) << 4);
                min = (u8(src, sc + j + 4) >>> 4) | ((u8(src, sc + j) >>> 6) << 4);
            }
            put(scales, b * 8 + j, d * (float) scale);
            put(offsets, b * 8 + j, -(dmin * (float) min));
            for (int l = 0; l < 32; l++) {
                int v = u8(src, qs + 32 * (j >> 1) + l);
                int q = (j & 1) == 0 ? v & 15 : v >>> 4;
                long e = b * 256 + 32 * j + l;
                if (ty == GgmlType.Q4_K) {
                    if ((l & 1) == 0) values.set(B, e >> 1, (byte) q);
                    else values.set(B, e >> 1, (byte) (values.get(B, e >> 1) | q << 4));
                } else {
                    values.set(B, e, (byte) (q | ((u8(src, qh + l) >>> j) & 1) << 4));
                }
            }
        }
    }

    /** Q6_K super-block of 256: ql[128], qh[64], int8 scales[16], d; 16 blocks of 16, codes q − 32. */
    private static void q6k(MemorySegment src, long s, long b, MemorySegment values, MemorySegment scales) {
        float d = f16(src, s + 208);
        for (int i = 0; i < 16; i++) put(scales, b * 16 + i, d * (float) src.get(B, s + 192 + i));
        for (int e = 0; e < 256; e++) {
            int h = e >> 7, r = e & 127;
            int ql = u8(src, s + h * 64 + (r & 63));
            int lo = (r >> 6) == 0 ? ql & 15 : ql >>> 4;
            int hi = (u8(src, s + 128 + h * 32 + (r & 31)) >>> (2 * (r >> 5))) & 3;
            values.set(B, b * 256 + e, (byte) ((lo | hi << 4) - 32));
        }
    }

    private static int u8(MemorySegment m, long i) {
        return m.get(B, i) & 0xff;
    }

    private static float f16(MemorySegment m, long i) {
        return Float.float16ToFloat(m.get(Tensor.I16_LE, i));
    }

    private static void put(MemorySegment m, long index, float v) {
        m.set(Tensor.F32_LE, index * 4, v);
    }
}
