package dev.cortado.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A {@link CudaDevice} without a GPU: hands out fake device addresses, does nothing for copies and kernels (downloads
 * read zeros) and records every kernel launch by name. The {@link CudaBackend} over it runs its real op code, so its
 * transfer bookkeeping ({@link CudaBackend#transfers()}) shows what a step would upload on a device.
 */
final class RecordingDevice implements CudaDevice {
    /** How {@link #capture} behaves: not offered (the default), captures, or refused by the "driver". */
    enum Capture { NONE, RECORD, REFUSE }

    final List<String> launches = new ArrayList<>();
    /** Kernels enqueued while capturing (into a graph, not launched). */
    final List<String> captured = new ArrayList<>();
    private final Capture capture;
    private volatile boolean capturing;

    RecordingDevice() {
        this(Capture.NONE);
    }

    RecordingDevice(Capture capture) {
        this.capture = capture;
    }
    private long next = 0x10_0000_0000L;
    private final Kernels kernels = new Kernels(new KernelLauncher(null) {
        @Override
        void launch(String name, int gx, int gy, int gz, int threads, int sharedBytes, CudaStream stream, Args a) {
            synchronized (launches) {
                (capturing ? captured : launches).add(name);
            }
        }

        @Override
        int gridFor(long n) {
            return (int) Math.min(Math.ceilDiv(Math.max(n, 1), 256), 4096);
        }

        @Override
        Optional<CuBlasLt> blas() {
            return Optional.empty();
        }
    });

    @Override public String name() { return "recording stand-in"; }

    @Override public int ordinal() { return 0; }

    @Override public CudaContext context() { return null; }

    @Override
    public synchronized DeviceMemory allocate(long bytes) {
        long at = next;
        next += (bytes + 255) & ~255L;
        return new DeviceMemory(null, null, at, bytes, 0);
    }

    @Override public void zero(DeviceMemory m) {}

    @Override
    public void upload(long dst, MemorySegment src, long bytes) {
        // as the driver: a synchronous copy on the legacy stream invalidates a capture
        if (capturing) throw new CudaException("host → device copy during stream capture (CUDA_ERROR_STREAM_CAPTURE_IMPLICIT)");
    }

    @Override
    public Graph capture(Runnable work) {
        if (capture == Capture.NONE) return CudaDevice.super.capture(work);
        if (capture == Capture.REFUSE) throw new CudaException("cuStreamBeginCapture: CUDA_ERROR_NOT_SUPPORTED (stand-in)");
        int from;
        synchronized (launches) {
            from = captured.size();
        }
        capturing = true;
        try {
            work.run();
        } finally {
            capturing = false;
        }
        List<String> kernels;
        synchronized (launches) {
            kernels = List.copyOf(captured.subList(from, captured.size()));
        }
        return new Graph() {
            @Override
            public void launch() {
                synchronized (launches) {
                    launches.add("graph_launch[" + kernels.size() + "]");
                }
            }

            @Override
            public void close() {}
        };
    }

    /** Bytes copied device → host so far. */
    long downloadedBytes;

    @Override public synchronized void download(MemorySegment dst, long src, long bytes) {
        downloadedBytes += bytes;
        dst.asSlice(0, bytes).fill((byte) 0);
    }

    @Override public void copy(long dst, long src, long bytes) {}

    @Override public MemorySegment pinned(long bytes) { return Arena.ofAuto().allocate(bytes, 16); }

    @Override public void freePinned(MemorySegment s) {}

    @Override public Kernels kernels() { return kernels; }

    @Override public long[] memoryInfo() { return new long[] {0, 0}; }

    @Override public void close() {}

    /** Launches whose kernel name starts with {@code prefix}, since index {@code from}. */
    long count(String prefix, int from) {
        synchronized (launches) {
            return launches.subList(from, launches.size()).stream().filter(n -> n.startsWith(prefix)).count();
        }
    }
}
