package dev.cortado.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A tensor: a {@link MemorySegment} (heap, native or a slice of a mapped file) with a shape and a dtype.
 * Row-major, little-endian, no strides: views that need strides are made by the layer that needs them.
 *
 * <p>A <em>device</em> tensor ({@link #onDevice}) carries a segment whose address is a GPU address
 * ({@code MemorySegment.ofAddress(devicePtr).reinterpret(bytes)}): only its backend may use it, and every host
 * accessor here ({@link #getFloat}, {@link #getLong}, {@link #toFloatArray}) refuses it instead of reading
 * arbitrary host memory. Read device tensors through {@code Backend.toHost}.
 */
public final class Tensor {
    public static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final DType dtype;
    private final long[] shape;
    private final MemorySegment data;
    private final boolean device;

    public Tensor(DType dtype, long[] shape, MemorySegment data) {
        this(dtype, shape, data, false);
    }

    private Tensor(DType dtype, long[] shape, MemorySegment data, boolean device) {
        this.device = device;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data;
        long need = numel(shape) * dtype.byteSize();
        if (data.byteSize() < need) {
            throw new IllegalArgumentException("tensor data has " + data.byteSize() + " bytes, shape "
                    + Arrays.toString(shape) + " " + dtype + " needs " + need);
        }
    }

    public static Tensor of(float[] values, long... shape) {
        return new Tensor(DType.F32, shape, MemorySegment.ofArray(values));
    }

    public static Tensor allocate(Arena arena, DType dtype, long... shape) {
        return new Tensor(dtype, shape, arena.allocate(numel(shape) * dtype.byteSize(), 64));
    }

    /** A tensor whose segment is a device address (never dereferenced on the host; see the class comment). */
    public static Tensor onDevice(DType dtype, long[] shape, MemorySegment deviceAddressRange) {
        return new Tensor(dtype, shape, deviceAddressRange, true);
    }

    /** Whether {@link #data()} is a device address range rather than host memory. */
    public boolean isOnDevice() { return device; }

    private void requireHost() {
        if (device) throw new IllegalStateException("device tensor " + this + " cannot be read on the host; use Backend.toHost");
    }

    public DType dtype() { return dtype; }

    public long[] shape() { return shape.clone(); }

    public int rank() { return shape.length; }

    public long dim(int i) { return shape[i < 0 ? shape.length + i : i]; }

    public MemorySegment data() { return data; }

    public long numel() { return numel(shape); }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Element i as a float, converting from any dtype. */
    public float getFloat(long i) {
        if (device) requireHost();
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32_LE, i);
            case F16 -> Float.float16ToFloat(data.getAtIndex(I16_LE, i));
            case BF16 -> Float.intBitsToFloat((data.getAtIndex(I16_LE, i) & 0xffff) << 16);
            case F64 -> (float) data.getAtIndex(F64_LE, i);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            case I32 -> data.getAtIndex(I32_LE, i);
            case I64 -> data.getAtIndex(I64_LE, i);
        };
    }

    /** Element i as a long (integer dtypes; floats are truncated). */
    public long getLong(long i) {
        if (device) requireHost();
        return switch (dtype) {
            case I64 -> data.getAtIndex(I64_LE, i);
            case I32 -> data.getAtIndex(I32_LE, i);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            default -> (long) getFloat(i);
        };
    }

    /** A fresh float32 copy of all elements. */
    public float[] toFloatArray() {
        requireHost();
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalStateException("tensor too large for a float[]: " + n);
        float[] out = new float[(int) n];
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32_LE, 0, out, 0, out.length);
        } else {
            for (int i = 0; i < out.length; i++) out[i] = getFloat(i);
        }
        return out;
    }

    public long[] toLongArray() {
        long n = numel();
        long[] out = new long[(int) n];
        for (int i = 0; i < out.length; i++) out[i] = getLong(i);
        return out;
    }

    /** Same data, new shape (element count must match). */
    public Tensor reshape(long... newShape) {
        if (numel(newShape) != numel()) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
        }
        return new Tensor(dtype, newShape, data, device);
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + Arrays.toString(shape) + (device ? " on device" : "") + "]";
    }
}
