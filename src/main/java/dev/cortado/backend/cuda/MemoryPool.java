package dev.cortado.backend.cuda;

import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A caching device-memory pool owned by a {@link CudaContext}. Requests are rounded up to a size class (powers of two
 * up to 1 MiB, then four classes per power of two, so at most 25% is wasted); a closed {@link DeviceMemory} goes back
 * to its class's free list and is reused without a cuMemAlloc. When the device is out of memory the cached blocks are
 * freed and the allocation retried once. {@link #close()} frees everything, live allocations included, so nothing
 * leaks past the context.
 *
 * <p>Freed blocks are reused immediately on the host's timeline: work still queued on a stream may read a block that
 * was closed after the launch, so close device memory only after the work that uses it has been synchronized (or
 * keep it alive for the lifetime of the stream / captured graph that uses it).
 */
public final class MemoryPool implements AutoCloseable {
    /** Smallest block handed out; also the alignment every allocation has (cuMemAlloc gives 256 B or more). */
    public static final long MIN_BLOCK = 256;
    private static final long ONE_MIB = 1L << 20;

    private final CudaContext ctx;
    private final TreeMap<Long, ArrayDeque<Long>> free = new TreeMap<>();
    private final Map<DeviceMemory, Boolean> live = new IdentityHashMap<>();
    private long bytesInUse;      // requested bytes of live allocations
    private long bytesReserved;   // size-class bytes of live allocations
    private long bytesCached;     // size-class bytes on the free lists
    private long peakReserved;
    private long allocCalls, reuseHits;
    private boolean closed;

    MemoryPool(CudaContext ctx) {
        this.ctx = ctx;
    }

    CudaContext context() { return ctx; }

    /** The size class a request of {@code bytes} is served from. */
    public static long sizeClass(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("negative allocation size " + bytes);
        long n = Math.max(bytes, MIN_BLOCK);
        if (n <= ONE_MIB) return Long.highestOneBit(n - 1) << 1;
        long p = Long.highestOneBit(n);
        long step = p >> 2;
        return Math.ceilDiv(n, step) * step;
    }

    /** Device memory of at least {@code bytes} (256-byte aligned); close it to return it to the pool. */
    public DeviceMemory allocate(long bytes) {
        long cls = sizeClass(bytes);
        long ptr;
        synchronized (this) {
            if (closed) throw new IllegalStateException("the CUDA memory pool of " + ctx + " is closed");
            allocCalls++;
            ArrayDeque<Long> q = free.get(cls);
            if (q != null && !q.isEmpty()) {
                ptr = q.pop();
                if (q.isEmpty()) free.remove(cls);
                bytesCached -= cls;
                reuseHits++;
                return track(new DeviceMemory(ctx, this, ptr, bytes, cls), bytes, cls);
            }
        }
        ctx.makeCurrent();
        try {
            ptr = ctx.driver().memAlloc(cls);
        } catch (CudaException e) {
            if (!e.isOutOfMemory()) throw e;
            if (trim() == 0) throw outOfMemory(e, bytes);
            try {
                ptr = ctx.driver().memAlloc(cls);
            } catch (CudaException again) {
                if (!again.isOutOfMemory()) throw again;
                throw outOfMemory(again, bytes);
            }
        }
        synchronized (this) {
            if (closed) {
                ctx.driver().memFree(ptr);
                throw new IllegalStateException("the CUDA memory pool of " + ctx + " is closed");
            }
            return track(new DeviceMemory(ctx, this, ptr, bytes, cls), bytes, cls);
        }
    }

    private DeviceMemory track(DeviceMemory m, long bytes, long cls) {
        live.put(m, Boolean.TRUE);
        bytesInUse += bytes;
        bytesReserved += cls;
        peakReserved = Math.max(peakReserved, bytesReserved);
        return m;
    }

    private CudaException outOfMemory(CudaException e, long bytes) {
        String state;
        try {
            long[] info = ctx.memoryInfo();
            state = "device has " + CudaDriver.formatBytes(info[0]) + " free of " + CudaDriver.formatBytes(info[1]);
        } catch (CudaException ignored) {
            state = "device memory state unknown";
        }
        synchronized (this) {
            return new CudaException(e.call(), e.code(), e.errorName(),
                    ctx.driver().errorString(e.code()), "allocating " + CudaDriver.formatBytes(bytes) + " (Cortado pool: "
                    + CudaDriver.formatBytes(bytesInUse) + " in use; " + state + ")");
        }
    }

    /** Called by {@link DeviceMemory#close()}. */
    void release(DeviceMemory m) {
        synchronized (this) {
            if (closed || live.remove(m) == null) return;
            bytesInUse -= m.byteSize();
            bytesReserved -= m.blockSize();
            bytesCached += m.blockSize();
            free.computeIfAbsent(m.blockSize(), k -> new ArrayDeque<>()).push(m.address0());
        }
    }

    /** Frees every cached (unused) block back to the driver; returns the bytes released. */
    public long trim() {
        TreeMap<Long, ArrayDeque<Long>> toFree;
        long released;
        synchronized (this) {
            toFree = new TreeMap<>(free);
            free.clear();
            released = bytesCached;
            bytesCached = 0;
        }
        if (released == 0) return 0;
        ctx.makeCurrent();
        for (ArrayDeque<Long> q : toFree.values()) for (long p : q) ctx.driver().memFree(p);
        return released;
    }

    /** Requested bytes of live allocations. */
    public synchronized long bytesInUse() { return bytesInUse; }

    /** Size-class bytes of live allocations (what the device actually holds for them). */
    public synchronized long bytesReserved() { return bytesReserved; }

    /** Bytes held on the free lists, ready for reuse. */
    public synchronized long bytesCached() { return bytesCached; }

    /** Highest {@link #bytesReserved()} seen. */
    public synchronized long peakBytesReserved() { return peakReserved; }

    public synchronized int liveAllocations() { return live.size(); }

    /** Allocation requests served from the free lists so far. */
    public synchronized long reuseCount() { return reuseHits; }

    public synchronized long allocationCount() { return allocCalls; }

    /** Frees the cached blocks and every live allocation (which become unusable). */
    @Override
    public void close() {
        DeviceMemory[] still;
        synchronized (this) {
            if (closed) return;
            still = live.keySet().toArray(new DeviceMemory[0]);
            live.clear();
        }
        trim();
        synchronized (this) {
            closed = true;
            bytesInUse = 0;
            bytesReserved = 0;
        }
        if (still.length > 0) {
            ctx.makeCurrent();
            for (DeviceMemory m : still) {
                m.markClosed();
                ctx.driver().memFree(m.address0());
            }
        }
    }

    @Override
    public synchronized String toString() {
        return "MemoryPool[" + CudaDriver.formatBytes(bytesInUse) + " in use in " + live.size() + " blocks, "
                + CudaDriver.formatBytes(bytesCached) + " cached]";
    }
}
