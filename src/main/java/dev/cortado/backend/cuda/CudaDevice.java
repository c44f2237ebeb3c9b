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

    /** {free, total} device memory in bytes. */
    long[] memoryInfo();

    void close();
}
