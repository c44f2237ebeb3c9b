package dev.cortado.backend.cuda;

import java.lang.foreign.MemorySegment;

/**
 * The stream a thread is capturing a CUDA graph on, if any. The backend's ops enqueue on the legacy default stream
 * ({@code null}); while a step is being captured ({@link DriverDevice#capture}) they go to the capture stream instead
 * (the legacy stream cannot be captured), so the op code is the same for eager and captured steps.
 */
final class CaptureStream {
    private static final ThreadLocal<CudaStream> CURRENT = new ThreadLocal<>();

    private CaptureStream() {}

    /** The handle to enqueue on: {@code s} when given, else the capture stream, else the legacy default stream. */
    static MemorySegment handle(CudaStream s) {
        if (s != null) return s.handle();
        CudaStream c = CURRENT.get();
        return c == null ? MemorySegment.NULL : c.handle();
    }

    /** The capture stream of this thread, or null. */
    static CudaStream current() {
        return CURRENT.get();
    }

    static void set(CudaStream s) {
        if (s == null) CURRENT.remove();
        else CURRENT.set(s);
    }
}
