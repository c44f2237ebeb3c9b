package dev.cortado.backend.cuda;

import java.lang.foreign.MemorySegment;

/** A non-blocking CUDA stream (does not synchronize with the legacy default stream). */
public final class CudaStream implements AutoCloseable {
    private final CudaContext ctx;
    private final MemorySegment handle;
    private volatile boolean closed;

    CudaStream(CudaContext ctx) {
        this.ctx = ctx;
        ctx.makeCurrent();
        this.handle = ctx.driver().streamCreate(CudaDriver.STREAM_NON_BLOCKING);
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
