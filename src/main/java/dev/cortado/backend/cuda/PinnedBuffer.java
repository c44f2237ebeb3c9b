package dev.cortado.backend.cuda;

import java.lang.foreign.MemorySegment;

/** Page-locked host memory (cuMemHostAlloc) for staging asynchronous copies; freed on close. */
public final class PinnedBuffer implements AutoCloseable {
    private final CudaContext ctx;
    private final MemorySegment segment;
    private volatile boolean closed;

    public PinnedBuffer(CudaContext ctx, long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("pinned buffer size must be positive, got " + bytes);
        this.ctx = ctx;
        ctx.makeCurrent();
        this.segment = ctx.driver().memHostAlloc(bytes, CudaDriver.MEMHOSTALLOC_PORTABLE);
    }

    /** The host memory (valid until close). */
    public MemorySegment segment() {
        if (closed) throw new IllegalStateException("pinned buffer is closed");
        return segment;
    }

    public long byteSize() { return segment.byteSize(); }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        ctx.makeCurrent();
        ctx.driver().memFreeHost(segment);
    }
}
