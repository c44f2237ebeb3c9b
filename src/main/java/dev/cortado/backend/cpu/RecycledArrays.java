package dev.cortado.backend.cpu;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Float arrays given back by layers ({@link CpuBackend#release}) and handed out again, unzeroed, by
 * {@link CpuBackend#allocateOutput} for an exact length. An encoder layer allocates the same few shapes every layer
 * and every batch, so a forward pass runs on a handful of buffers instead of producing hundreds of MB of garbage per
 * batch (minor GCs that copy live activations, and zeroing). At most {@link #MAX_BYTES} are held; beyond that a
 * released array is left to the GC.
 */
final class RecycledArrays {
    /** Smaller arrays are not worth pooling. */
    static final int MIN = 1 << 12;
    static final long MAX_BYTES = Long.getLong("cortado.cpu.recycleBytes", 512L << 20);

    private final Map<Integer, ArrayDeque<float[]>> free = new HashMap<>();
    private long bytes;

    synchronized float[] take(int n) {
        ArrayDeque<float[]> q = free.get(n);
        float[] a = q == null ? null : q.pollLast();
        if (a != null) bytes -= 4L * n;
        return a;
    }

    synchronized void give(float[] a) {
        if (bytes + 4L * a.length > MAX_BYTES) return;
        ArrayDeque<float[]> q = free.computeIfAbsent(a.length, k -> new ArrayDeque<>());
        for (float[] b : q) if (b == a) return; // released twice: keep one entry
        q.addLast(a);
        bytes += 4L * a.length;
    }
}
