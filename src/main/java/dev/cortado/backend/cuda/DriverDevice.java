package dev.cortado.backend.cuda;

import java.lang.foreign.MemorySegment;

/** {@link CudaDevice} over the CUDA driver: one {@link CudaContext}, its caching pool and Cortado's kernels. */
final class DriverDevice implements CudaDevice {
    private final CudaContext ctx;
    private final Kernels kernels;
    private CudaStream graphStream;   // blocking: captures and replays are ordered with the legacy stream

    private DriverDevice(CudaContext ctx, Kernels kernels) {
        this.ctx = ctx;
        this.kernels = kernels;
    }

    /** Opens device {@code ordinal} and loads the kernels ({@code compute} is checked by the caller first). */
    static DriverDevice open(int ordinal, dev.cortado.tensor.DType compute) {
        CudaContext ctx = CudaContext.open(ordinal);
        try {
            return new DriverDevice(ctx, ctx.kernels());
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    @Override public String name() { return ctx.name(); }

    @Override public int ordinal() { return ctx.ordinal(); }

    @Override public CudaContext context() { return ctx; }

    @Override public DeviceMemory allocate(long bytes) { return ctx.allocate(bytes); }

    @Override
    public void zero(DeviceMemory m) {
        CudaStream c = CaptureStream.current();
        if (c != null) m.zero(c);
        else m.zero();
    }

    @Override
    public void upload(long dst, MemorySegment src, long bytes) {
        ctx.makeCurrent();
        ctx.driver().memcpyHtoD(dst, src, bytes);
    }

    @Override
    public void download(MemorySegment dst, long src, long bytes) {
        ctx.makeCurrent();
        ctx.driver().memcpyDtoH(dst, src, bytes);
    }

    @Override
    public void copy(long dst, long src, long bytes) {
        ctx.makeCurrent();
        CudaStream c = CaptureStream.current();
        if (c != null) ctx.driver().memcpyDtoDAsync(dst, src, bytes, c.handle());
        else ctx.driver().memcpyDtoD(dst, src, bytes);
    }

    @Override
    public synchronized Graph capture(Runnable work) {
        if (graphStream == null) graphStream = new CudaStream(ctx, 0);
        CudaStream s = graphStream;
        CudaGraph g;
        CaptureStream.set(s);
        try {
            g = CudaGraph.capture(s, work);
        } finally {
            CaptureStream.set(null);
        }
        return new Graph() {
            @Override public void launch() { g.launch(s); }

            @Override public void close() { g.close(); }
        };
    }

    @Override
    public MemorySegment pinned(long bytes) {
        ctx.makeCurrent();
        return ctx.driver().memHostAlloc(bytes, CudaDriver.MEMHOSTALLOC_PORTABLE);
    }

    @Override
    public void freePinned(MemorySegment s) {
        if (ctx.isClosed()) return;
        ctx.makeCurrent();
        ctx.driver().memFreeHost(s);
    }

    @Override public Kernels kernels() { return kernels; }

    @Override public long[] memoryInfo() { return ctx.memoryInfo(); }

    @Override
    public void close() {
        synchronized (this) {
            if (graphStream != null && !ctx.isClosed()) graphStream.close();
            graphStream = null;
        }
        ctx.close();
    }
}
