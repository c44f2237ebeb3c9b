package dev.cortado.backend.cuda;

import java.lang.foreign.MemorySegment;

/** A CUDA stream: non-blocking (does not synchronize with the legacy default stream) unless made with flags 0. */
public final class CudaStream implements AutoCloseable {
    private final CudaContext ctx;
    private final MemorySegment handle;
    private volatile boolean closed;

    CudaStream(CudaContext ctx) {
        this(ctx, CudaDriver.STREAM_NON_BLOCKING);
    }

    /** With {@code flags} 0: a blocking stream, ordered with the legacy default stream (graph capture and replay). */
    CudaStream(CudaContext ctx, int flags) {
        this.ctx = ctx;
        ctx.makeCurrent();
        this.handle = ctx.driver().streamCreate(flags);
    }

    public CudaContext context() { return ctx; }

    /** The CUstream handle. */
    public MemorySegment handle() {
        if (closed) throw new IllegalStateException("CUDA stream is closed");
        return handle;
    }

    /** Blocks until all work queued on this stream has finished; reports asynchronous kernel errors. */
    public void synchronize() {
        ctx.makeCurrent();
        ctx.driver().streamSynchronize(handle());
    }

    /** Records a new event on this stream (close it when done). */
    public CudaEvent record() {
        CudaEvent e = new CudaEvent(ctx, true);
        e.record(this);
        return e;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        ctx.makeCurrent();
        try {
            ctx.driver().streamSynchronize(handle);
        } finally {
            closed = true;
            ctx.driver().streamDestroy(handle);
        }
    }
}
