package dev.cortado.backend.cuda;

import java.lang.foreign.MemorySegment;

/**
 * A captured and instantiated CUDA graph: the kernels launched on a stream between begin and end of capture,
 * replayed with one {@link #launch} (a whole decode step). Capture runs in thread-local mode. Device memory used
 * inside must be allocated before capture (cuMemAlloc is not allowed while capturing) and stay alive as long as the
 * graph; kernel arguments (pointers, sizes) are frozen at capture, so a replayed step reads its varying inputs (token
 * ids, positions, sequence lengths) from device buffers updated before each launch.
 */
public final class CudaGraph implements AutoCloseable {
    private final CudaContext ctx;
    private final MemorySegment graph;
    private final MemorySegment exec;
    private volatile boolean closed;

    private CudaGraph(CudaContext ctx, MemorySegment graph, MemorySegment exec) {
        this.ctx = ctx;
        this.graph = graph;
        this.exec = exec;
    }

    /** Captures what {@code work} enqueues on {@code stream} and instantiates it. */
    public static CudaGraph capture(CudaStream stream, Runnable work) {
        CudaContext ctx = stream.context();
        CudaDriver d = ctx.driver();
        ctx.makeCurrent();
        d.streamBeginCapture(stream.handle(), CudaDriver.CAPTURE_MODE_THREAD_LOCAL);
        MemorySegment graph;
        try {
            work.run();
        } catch (RuntimeException | Error e) {
            try {
                MemorySegment g = d.streamEndCapture(stream.handle());
                if (!g.equals(MemorySegment.NULL)) d.graphDestroy(g);
            } catch (CudaException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        graph = d.streamEndCapture(stream.handle());
        MemorySegment exec;
        try {
            exec = d.graphInstantiate(graph, 0);
        } catch (CudaException e) {
            d.graphDestroy(graph);
            throw e;
        }
        return new CudaGraph(ctx, graph, exec);
    }

    /** Enqueues one replay on {@code stream}. */
    public void launch(CudaStream stream) {
        if (closed) throw new IllegalStateException("CUDA graph is closed");
        ctx.makeCurrent();
        ctx.driver().graphLaunch(exec, stream.handle());
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        ctx.makeCurrent();
        try {
            ctx.driver().graphExecDestroy(exec);
        } finally {
            ctx.driver().graphDestroy(graph);
        }
    }
}
