package dev.cortado.backend.cuda;

import java.lang.foreign.MemorySegment;

/** A CUDA event: a point in a stream to wait for or to time against. */
public final class CudaEvent implements AutoCloseable {
    private final CudaContext ctx;
    private final MemorySegment handle;
    private volatile boolean closed;

    /** @param timing whether {@link #elapsedMillisSince} may be used (timing-disabled events are cheaper) */
    public CudaEvent(CudaContext ctx, boolean timing) {
        this.ctx = ctx;
        ctx.makeCurrent();
        this.handle = ctx.driver().eventCreate(timing ? CudaDriver.EVENT_DEFAULT : CudaDriver.EVENT_DISABLE_TIMING);
    }

    public MemorySegment handle() {
        if (closed) throw new IllegalStateException("CUDA event is closed");
        return handle;
    }

    public void record(CudaStream stream) {
        ctx.makeCurrent();
        ctx.driver().eventRecord(handle(), stream.handle());
    }

    public void synchronize() {
        ctx.makeCurrent();
        ctx.driver().eventSynchronize(handle());
    }

    /** Milliseconds from {@code start} to this event (both recorded; this one is waited for). */
    public float elapsedMillisSince(CudaEvent start) {
        synchronize();
        return ctx.driver().eventElapsedTime(start.handle(), handle());
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        ctx.makeCurrent();
        ctx.driver().eventDestroy(handle);
    }
}
