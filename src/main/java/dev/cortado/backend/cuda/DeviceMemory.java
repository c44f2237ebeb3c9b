package dev.cortado.backend.cuda;

import java.lang.foreign.MemorySegment;

/**
 * A range of device memory: a pool allocation (closing it returns the block to its {@link MemoryPool}) or a view
 * made by {@link #slice} (closing a view does nothing; it must not outlive its allocation).
 */
public final class DeviceMemory implements AutoCloseable {
    private final CudaContext ctx;
    private final MemoryPool pool;   // null for views
    private final long address;
    private final long byteSize;
    private final long blockSize;    // size class actually reserved (allocations only)
    private volatile boolean closed;

    DeviceMemory(CudaContext ctx, MemoryPool pool, long address, long byteSize, long blockSize) {
        this.ctx = ctx;
        this.pool = pool;
        this.address = address;
        this.byteSize = byteSize;
        this.blockSize = blockSize;
    }

    /** The CUdeviceptr. */
    public long address() {
        if (closed) throw new IllegalStateException("device memory at 0x" + Long.toHexString(address) + " was freed");
        return address;
    }

    /** The address without the freed check (pool bookkeeping). */
    long address0() { return address; }

    public long byteSize() { return byteSize; }

    long blockSize() { return blockSize; }

    public boolean isView() { return pool == null; }

    /** A view of {@code bytes} starting {@code offset} bytes in. */
    public DeviceMemory slice(long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset + bytes > byteSize) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + (offset + bytes) + ") of " + byteSize
                    + " bytes of device memory");
        }
        return new DeviceMemory(ctx, null, address() + offset, bytes, 0);
    }

    public CudaContext context() { return ctx; }

    /** Synchronous copy of {@code min(host size, byteSize)} bytes from the host. */
    public void copyFrom(MemorySegment host) {
        CudaContext c = ctx;
        c.makeCurrent();
        c.driver().memcpyHtoD(address(), host, Math.min(host.byteSize(), byteSize));
    }

    /** Synchronous copy of {@code min(host size, byteSize)} bytes to the host. */
    public void copyTo(MemorySegment host) {
        CudaContext c = ctx;
        c.makeCurrent();
        c.driver().memcpyDtoH(host, address(), Math.min(host.byteSize(), byteSize));
    }

    /** Stream-ordered copy from native (ideally pinned, see {@link PinnedBuffer}) host memory. */
    public void copyFromAsync(MemorySegment host, CudaStream stream) {
        stream.context().makeCurrent();
        stream.context().driver().memcpyHtoDAsync(address(), host, Math.min(host.byteSize(), byteSize), stream.handle());
    }

    /** Stream-ordered copy to native (ideally pinned) host memory; valid after the stream is synchronized. */
    public void copyToAsync(MemorySegment host, CudaStream stream) {
        stream.context().makeCurrent();
        stream.context().driver().memcpyDtoHAsync(host, address(), Math.min(host.byteSize(), byteSize), stream.handle());
    }

    /** Synchronous device-to-device copy of {@code min(sizes)} bytes from {@code src}. */
    public void copyFrom(DeviceMemory src) {
        CudaContext c = ctx;
        c.makeCurrent();
        c.driver().memcpyDtoD(address(), src.address(), Math.min(src.byteSize, byteSize));
    }

    public void copyFromAsync(DeviceMemory src, CudaStream stream) {
        stream.context().makeCurrent();
        stream.context().driver().memcpyDtoDAsync(address(), src.address(), Math.min(src.byteSize, byteSize),
                stream.handle());
    }

    /** Sets every byte to zero (stream-ordered). */
    public void zero(CudaStream stream) {
        stream.context().makeCurrent();
        stream.context().driver().memsetD8Async(address(), (byte) 0, byteSize, stream.handle());
    }

    /** Sets every byte to zero (synchronous). */
    public void zero() {
        CudaContext c = ctx;
        c.makeCurrent();
        c.driver().memsetD8(address(), (byte) 0, byteSize);
    }

    public boolean isClosed() { return closed; }

    /** Returns the block to the pool (allocations) or just invalidates the handle (views). Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        if (pool != null) pool.release(this);
    }

    /** Called by the pool when it frees everything at close. */
    void markClosed() { closed = true; }

    @Override
    public String toString() {
        return "DeviceMemory[0x" + Long.toHexString(address) + ", " + CudaDriver.formatBytes(byteSize)
                + (pool == null ? ", view" : "") + (closed ? ", closed" : "") + "]";
    }
}
