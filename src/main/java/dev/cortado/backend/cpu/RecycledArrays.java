package dev.cortado.backend.cpu;

/**
 * Float arrays given back by layers ({@link CpuBackend#release}) and handed out again, unzeroed, by
 * {@link CpuBackend#allocateOutput} for an exact length. An encoder layer allocates the same few shapes every layer
 * and every batch, and a decode step the same few shapes every step, so a forward pass runs on a handful of buffers
 * instead of producing hundreds of MB of garbage per batch (minor GCs that copy live activations, and zeroing; on a
 * 2-core host a GC also deschedules a pool worker mid-op). At most {@link #MAX_BYTES} are held; beyond that a
 * released array is left to the GC. Taking and giving allocate nothing (a decode step calls them ~100 times): the
 * free arrays are kept per length in a small table searched linearly (a model has a few dozen distinct lengths).
 */
final class RecycledArrays {
    /** Smaller arrays are not worth pooling. */
    static final int MIN = 1 << 6;
    static final long MAX_BYTES = Long.getLong("cortado.cpu.recycleBytes", 512L << 20);
    /** Distinct lengths held at once; arrays of further lengths are left to the GC. */
    private static final int LENGTHS = 64;

    private final int[] lengths = new int[LENGTHS];
    private final float[][][] stacks = new float[LENGTHS][][];
    private final int[] counts = new int[LENGTHS];
    private int used;
    private long bytes;

    private int slot(int n) {
        for (int i = 0; i < used; i++) if (lengths[i] == n) return i;
        return -1;
    }

    synchronized float[] take(int n) {
        int s = slot(n);
        if (s < 0 || counts[s] == 0) return null;
        float[] a = stacks[s][--counts[s]];
        stacks[s][counts[s]] = null;
        bytes -= 4L * n;
        return a;
    }

    synchronized void give(float[] a) {
        if (bytes + 4L * a.length > MAX_BYTES) return;
        int s = slot(a.length);
        if (s < 0) {
            if (used == LENGTHS) return;
            s = used++;
            lengths[s] = a.length;
            stacks[s] = new float[4][];
        }
        float[][] st = stacks[s];
        for (int i = 0; i < counts[s]; i++) if (st[i] == a) return; // released twice: keep one entry
        if (counts[s] == st.length) stacks[s] = st = java.util.Arrays.copyOf(st, 2 * st.length);
        st[counts[s]++] = a;
        bytes += 4L * a.length;
    }
}
