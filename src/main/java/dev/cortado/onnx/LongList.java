package dev.cortado.onnx;

import dev.cortado.CortadoException;
import java.util.Arrays;

/** A growable list of primitive longs (repeated protobuf values, stored as raw bits). */
public final class LongList {
    private long[] values = new long[8];
    private int size;

    public void add(long v) {
        if (size == values.length) {
            if (size == Integer.MAX_VALUE - 8) throw new CortadoException("repeated field holds more than " + size + " values");
            values = Arrays.copyOf(values, (int) Math.min(Integer.MAX_VALUE - 8L, size * 2L));
        }
        values[size++] = v;
    }

    public long get(int i) {
        return values[i];
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public long[] toArray() {
        return Arrays.copyOf(values, size);
    }
}
