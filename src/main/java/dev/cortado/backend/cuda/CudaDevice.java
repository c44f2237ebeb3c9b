package dev.cortado.backend.cuda;

import java.lang.foreign.MemorySegment;

/**
 * What the CUDA backend's ops need from a device: memory, copies, page-locked staging and kernels. {@link DriverDevice}
 * is the real one (the driver API through {@link CudaContext}); a recording stand-in (tests) hands out fake
 * addresses and records launches, so the backend's bookkeeping — how many host→device copies a step makes — is
 * checked without a GPU.
 */
interface CudaDevice {
    String name();

    int ordinal();

    /** The driver context, or null for a stand-in. */
    CudaContext context();

    DeviceMemory allocate(long bytes);

    /** Sets every byte of {@code m} to zero (ordered with the kernels). */
    void zero(DeviceMemory m);

    /** Host → device, synchronous. */
    void upload(long dst, MemorySegment src, long bytes);

    /** Device → host, synchronous. */
    void download(MemorySegment dst, long src, long bytes);

    /** Device → device. */
    void copy(long dst, long src, long bytes);

    /** Page-locked host memory for staging uploads (free with {@link #freePinned}). */
    MemorySegment pinned(long bytes);

    void freePinned(MemorySegment s);

    Kernels kernels();

    /**
     * Captures what {@code work} enqueues (kernels, memsets, device copies — no host transfers, no allocations) into
     * a graph replayed with {@link Graph#launch}, ordered with the legacy stream. Throws when this device cannot
     * capture or the driver refuses (the caller then runs the step eagerly).
     */
    default Graph capture(Runnable work) {
        throw new UnsupportedOperationException("CUDA graph capture is not available on " + name());
    }

    /** A captured step: one launch replays it. */
    interface Graph extends AutoCloseable {
        void launch();

        @Override
        void close();
    }

    /** {free, total} device memory in bytes. */
    long[] memoryInfo();

    void close();
}
