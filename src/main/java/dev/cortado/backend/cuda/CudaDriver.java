package dev.cortado.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * FFM bindings to the CUDA driver API in {@code libcuda.so.1} (no JNI, no CUDA runtime). The library is looked up
 * on first use only ({@link #get()}); without it every entry point throws the same clear {@link CudaException}.
 * Every CUresult other than CUDA_SUCCESS becomes a {@link CudaException} naming the call and the error.
 *
 * <p>Versioned entry points are bound by their exported names as cuda.h maps them (CUDA 12/13): cuMemAlloc_v2,
 * cuMemFree_v2, cuMemGetInfo_v2, cuMemcpy*_v2, cuDeviceTotalMem_v2, cuDevicePrimaryCtxRelease_v2,
 * cuStreamDestroy_v2, cuEventDestroy_v2, cuStreamBeginCapture_v2, cuMemsetD8_v2, cuEventElapsedTime_v2 (falling
 * back to cuEventElapsedTime on drivers before 12.8). The legacy (not per-thread) default stream is used: Cortado
 * always passes explicit streams.
 *
 * <p>Handles (CUcontext, CUstream, CUevent, CUmodule, CUfunction, CUgraph, CUgraphExec) are {@link MemorySegment}
 * addresses; device pointers (CUdeviceptr) are {@code long}. Calls that need a current context must run on a thread
 * where {@link CudaContext#makeCurrent()} was called (the Cortado classes do it for you).
 */
public final class CudaDriver {
    public static final String LIBRARY = "libcuda.so.1";

    // CUdevice_attribute values used by Cortado (cuda.h).
    public static final int ATTR_MAX_THREADS_PER_BLOCK = 1;
    public static final int ATTR_CLOCK_RATE = 13;
    public static final int ATTR_MULTIPROCESSOR_COUNT = 16;
    public static final int ATTR_MEMORY_CLOCK_RATE = 36;
    public static final int ATTR_GLOBAL_MEMORY_BUS_WIDTH = 37;
    public static final int ATTR_L2_CACHE_SIZE = 38;
    public static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    public static final int ATTR_MEMORY_POOLS_SUPPORTED = 115;
    public static final int FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    public static final int STREAM_NON_BLOCKING = 1;
    public static final int EVENT_DEFAULT = 0;
    public static final int EVENT_DISABLE_TIMING = 2;
    public static final int MEMHOSTALLOC_PORTABLE = 1;
    public static final int CAPTURE_MODE_GLOBAL = 0;
    public static final int CAPTURE_MODE_THREAD_LOCAL = 1;
    public static final int CAPTURE_MODE_RELAXED = 2;

    private static final Object LOCK = new Object();
    private static volatile CudaDriver instance;
    private static volatile String failure; // message of the load failure, cached so we try only once

    private final Linker linker = Linker.nativeLinker();
    private final SymbolLookup lib;
    private final String libraryName;
    private volatile boolean initialized;

    private final MethodHandle cuInit, cuDriverGetVersion, cuDeviceGet, cuDeviceGetCount, cuDeviceGetName,
            cuDeviceGetAttribute, cuDeviceTotalMem, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRelease,
            cuCtxSetCurrent, cuCtxGetCurrent, cuCtxSynchronize, cuMemAlloc, cuMemFree, cuMemAllocAsync,
            cuMemFreeAsync, cuMemGetInfo, cuMemcpyHtoD, cuMemcpyHtoDHeap, cuMemcpyDtoH, cuMemcpyDtoHHeap,
            cuMemcpyDtoD, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync, cuMemcpyDtoDAsync, cuMemsetD8, cuMemsetD8Async,
            cuMemHostAlloc, cuMemFreeHost, cuStreamCreate, cuStreamSynchronize, cuStreamDestroy, cuEventCreate,
            cuEventRecord, cuEventSynchronize, cuEventElapsedTime, cuEventDestroy, cuModuleLoadData,
            cuModuleUnload, cuModuleGetFunction, cuFuncSetAttribute, cuLaunchKernel, cuStreamBeginCapture,
            cuStreamEndCapture, cuGraphInstantiateWithFlags, cuGraphLaunch, cuGraphExecDestroy, cuGraphDestroy,
            cuGetErrorName, cuGetErrorString;
    private final String elapsedTimeName;

    /** The driver, loading {@code libcuda.so.1} on first use. */
    public static CudaDriver get() {
        CudaDriver d = instance;
        if (d != null) return d;
        synchronized (LOCK) {
            if (instance != null) return instance;
            if (failure != null) throw new CudaException(failure);
            String override = System.getenv("CORTADO_LIBCUDA");
            try {
                instance = load(override == null || override.isBlank() ? LIBRARY : override);
                return instance;
            } catch (CudaException e) {
                failure = e.getMessage();
                throw e;
            }
        }
    }

    /** True when libcuda could be loaded (does not initialize the driver or look for devices). */
    public static boolean isAvailable() {
        try {
            get();
            return true;
        } catch (CudaException e) {
            return false;
        }
    }

    /** Why the driver is unusable, or null when it loaded. */
    public static String unavailableReason() {
        try {
            get();
            return null;
        } catch (CudaException e) {
            return e.getMessage();
        }
    }

    /** Loads a specific library (tests use a missing name to see the no-driver path). */
    static CudaDriver load(String libraryName) {
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(libraryName, Arena.global());
        } catch (IllegalArgumentException | UnsatisfiedLinkError | IllegalCallerException e) {
            String cause = e.getMessage() == null ? e.toString() : e.getMessage();
            throw new CudaException("no CUDA driver found: " + libraryName + " could not be loaded (" + cause
                    + "); the CUDA device needs an NVIDIA GPU and its driver; use --device cpu (Java: Device.cpu())", e);
        }
        return new CudaDriver(lookup, libraryName);
    }

    private CudaDriver(SymbolLookup lib, String libraryName) {
        this.lib = lib;
        this.libraryName = libraryName;
        FunctionDescriptor i_i = FunctionDescriptor.of(JAVA_INT, JAVA_INT);
        FunctionDescriptor i_a = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        FunctionDescriptor i_l = FunctionDescriptor.of(JAVA_INT, JAVA_LONG);
        FunctionDescriptor i_ = FunctionDescriptor.of(JAVA_INT);
        cuInit = bind("cuInit", i_i);
        cuDriverGetVersion = bind("cuDriverGetVersion", i_a);
        cuDeviceGet = bind("cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDeviceGetCount = bind("cuDeviceGetCount", i_a);
        cuDeviceGetName = bind("cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDeviceGetAttribute = bind("cuDeviceGetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDeviceTotalMem = bind("cuDeviceTotalMem_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDevicePrimaryCtxRetain = bind("cuDevicePrimaryCtxRetain",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDevicePrimaryCtxRelease = bind("cuDevicePrimaryCtxRelease_v2", i_i);
        cuCtxSetCurrent = bind("cuCtxSetCurrent", i_a);
        cuCtxGetCurrent = bind("cuCtxGetCurrent", i_a);
        cuCtxSynchronize = bind("cuCtxSynchronize", i_);
        cuMemAlloc = bind("cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        cuMemFree = bind("cuMemFree_v2", i_l);
        cuMemAllocAsync = bind("cuMemAllocAsync", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
        cuMemFreeAsync = bind("cuMemFreeAsync", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS));
        cuMemGetInfo = bind("cuMemGetInfo_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        FunctionDescriptor htod = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG);
        FunctionDescriptor dtoh = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG);
        cuMemcpyHtoD = bind("cuMemcpyHtoD_v2", htod);
        cuMemcpyDtoH = bind("cuMemcpyDtoH_v2", dtoh);
        // Heap (Java array) segments can be passed only to critical downcalls that allow heap access; these block
        // the GC for the duration of the (synchronous) copy, so they are used for heap segments only.
        cuMemcpyHtoDHeap = bind("cuMemcpyHtoD_v2", htod, Linker.Option.critical(true));
        cuMemcpyDtoHHeap = bind("cuMemcpyDtoH_v2", dtoh, Linker.Option.critical(true));
        cuMemcpyDtoD = bind("cuMemcpyDtoD_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        cuMemcpyHtoDAsync = bind("cuMemcpyHtoDAsync_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
        cuMemcpyDtoHAsync = bind("cuMemcpyDtoHAsync_v2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemcpyDtoDAsync = bind("cuMemcpyDtoDAsync_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemsetD8 = bind("cuMemsetD8_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG));
        cuMemsetD8Async = bind("cuMemsetD8Async",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS));
        cuMemHostAlloc = bind("cuMemHostAlloc", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        cuMemFreeHost = bind("cuMemFreeHost", i_a);
        cuStreamCreate = bind("cuStreamCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuStreamSynchronize = bind("cuStreamSynchronize", i_a);
        cuStreamDestroy = bind("cuStreamDestroy_v2", i_a);
        cuEventCreate = bind("cuEventCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuEventRecord = bind("cuEventRecord", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuEventSynchronize = bind("cuEventSynchronize", i_a);
        FunctionDescriptor elapsed = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        if (lib.find("cuEventElapsedTime_v2").isPresent()) {
            elapsedTimeName = "cuEventElapsedTime_v2";
        } else {
            elapsedTimeName = "cuEventElapsedTime";
        }
        cuEventElapsedTime = bind(elapsedTimeName, elapsed);
        cuEventDestroy = bind("cuEventDestroy_v2", i_a);
        cuModuleLoadData = bind("cuModuleLoadData", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuModuleUnload = bind("cuModuleUnload", i_a);
        cuModuleGetFunction = bind("cuModuleGetFunction", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuFuncSetAttribute = bind("cuFuncSetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuLaunchKernel = bind("cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuStreamBeginCapture = bind("cuStreamBeginCapture_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuStreamEndCapture = bind("cuStreamEndCapture", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuGraphInstantiateWithFlags = bind("cuGraphInstantiateWithFlags",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        cuGraphLaunch = bind("cuGraphLaunch", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cuGraphExecDestroy = bind("cuGraphExecDestroy", i_a);
        cuGraphDestroy = bind("cuGraphDestroy", i_a);
        cuGetErrorName = bind("cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        cuGetErrorString = bind("cuGetErrorString", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    }

    private MethodHandle bind(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment sym = lib.find(name).orElseThrow(() -> new CudaException(libraryName + " has no symbol " + name
                + ": the NVIDIA driver is too old for Cortado (needs a CUDA 12 or newer driver); use --device cpu"));
        return linker.downcallHandle(sym, fd, options);
    }

    public String libraryName() { return libraryName; }

    // ---- errors -------------------------------------------------------------------------------------------------

    /** The CUresult's name, e.g. CUDA_ERROR_OUT_OF_MEMORY. */
    public String errorName(int code) {
        return errorText(cuGetErrorName, code, "CUDA_ERROR_" + code);
    }

    /** The CUresult's description, e.g. "out of memory". */
    public String errorString(int code) {
        return errorText(cuGetErrorString, code, "");
    }

    private static String errorText(MethodHandle h, int code, String fallback) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int r = (int) h.invokeExact(code, p);
            MemorySegment s = p.get(ADDRESS, 0);
            if (r != 0 || s.equals(MemorySegment.NULL)) return fallback;
            return s.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            return fallback;
        }
    }

    void check(int result, String call) {
        check(result, call, null);
    }

    void check(int result, String call, String context) {
        if (result != 0) throw new CudaException(call, result, errorName(result), errorString(result), context);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new CudaException("CUDA driver call failed: " + t, t);
    }

    /** A driver call returning its CUresult. */
    @FunctionalInterface
    private interface Call {
        int run() throws Throwable;
    }

    /** A driver call writing one result through {@code out}. */
    @FunctionalInterface
    private interface OutCall {
        int run(MemorySegment out, Arena arena) throws Throwable;
    }

    private void call(String name, String context, Call c) {
        int r;
        try {
            r = c.run();
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(r, name, context);
    }

    private MemorySegment out(String name, String context, long bytes, Arena a, OutCall c) {
        MemorySegment o = a.allocate(bytes, 8);
        int r;
        try {
            r = c.run(o, a);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(r, name, context);
        return o;
    }

    private int outInt(String name, String context, OutCall c) {
        try (Arena a = Arena.ofConfined()) {
            return out(name, context, 4, a, c).get(JAVA_INT, 0);
        }
    }

    private long outLong(String name, String context, OutCall c) {
        try (Arena a = Arena.ofConfined()) {
            return out(name, context, 8, a, c).get(JAVA_LONG, 0);
        }
    }

    private MemorySegment outPtr(String name, String context, OutCall c) {
        try (Arena a = Arena.ofConfined()) {
            return out(name, context, 8, a, c).get(ADDRESS, 0);
        }
    }

    // ---- init, devices ------------------------------------------------------------------------------------------

    /** cuInit(0), once per process. */
    public void init() {
        if (initialized) return;
        synchronized (this) {
            if (initialized) return;
            call("cuInit", null, () -> (int) cuInit.invokeExact(0));
            initialized = true;
        }
    }

    /** Driver version as reported, e.g. 13000 for CUDA 13.0. */
    public int driverVersion() {
        return outInt("cuDriverGetVersion", null, (o, a) -> (int) cuDriverGetVersion.invokeExact(o));
    }

    public static String formatVersion(int v) {
        return (v / 1000) + "." + (v % 1000) / 10;
    }

    public int deviceCount() {
        init();
        return outInt("cuDeviceGetCount", null, (o, a) -> (int) cuDeviceGetCount.invokeExact(o));
    }

    /** The CUdevice of an ordinal. */
    public int device(int ordinal) {
        init();
        return outInt("cuDeviceGet", "opening device " + ordinal, (o, a) -> (int) cuDeviceGet.invokeExact(o, ordinal));
    }

    public String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            return out("cuDeviceGetName", null, 256, a, (o, x) -> (int) cuDeviceGetName.invokeExact(o, 256, device))
                    .getString(0);
        }
    }

    public int deviceAttribute(int attribute, int device) {
        return outInt("cuDeviceGetAttribute", "reading attribute " + attribute,
                (o, a) -> (int) cuDeviceGetAttribute.invokeExact(o, attribute, device));
    }

    public long deviceTotalMem(int device) {
        return outLong("cuDeviceTotalMem_v2", null, (o, a) -> (int) cuDeviceTotalMem.invokeExact(o, device));
    }

    // ---- contexts -----------------------------------------------------------------------------------------------

    public MemorySegment primaryCtxRetain(int device) {
        return outPtr("cuDevicePrimaryCtxRetain", "opening device " + device,
                (o, a) -> (int) cuDevicePrimaryCtxRetain.invokeExact(o, device));
    }

    public void primaryCtxRelease(int device) {
        call("cuDevicePrimaryCtxRelease_v2", null, () -> (int) cuDevicePrimaryCtxRelease.invokeExact(device));
    }

    public void ctxSetCurrent(MemorySegment ctx) {
        call("cuCtxSetCurrent", null, () -> (int) cuCtxSetCurrent.invokeExact(ctx));
    }

    public MemorySegment ctxGetCurrent() {
        return outPtr("cuCtxGetCurrent", null, (o, a) -> (int) cuCtxGetCurrent.invokeExact(o));
    }

    /** Waits for all work of the current context; reports asynchronous kernel errors. */
    public void ctxSynchronize() {
        call("cuCtxSynchronize", null, () -> (int) cuCtxSynchronize.invokeExact());
    }

    // ---- memory -------------------------------------------------------------------------------------------------

    public long memAlloc(long bytes) {
        return outLong("cuMemAlloc_v2", "allocating " + formatBytes(bytes),
                (o, a) -> (int) cuMemAlloc.invokeExact(o, bytes));
    }

    public void memFree(long dptr) {
        call("cuMemFree_v2", null, () -> (int) cuMemFree.invokeExact(dptr));
    }

    /** Stream-ordered allocation (allowed inside graph capture, where it becomes a memory node). */
    public long memAllocAsync(long bytes, MemorySegment stream) {
        return outLong("cuMemAllocAsync", "allocating " + formatBytes(bytes),
                (o, a) -> (int) cuMemAllocAsync.invokeExact(o, bytes, stream));
    }

    public void memFreeAsync(long dptr, MemorySegment stream) {
        call("cuMemFreeAsync", null, () -> (int) cuMemFreeAsync.invokeExact(dptr, stream));
    }

    /** {free, total} bytes of the current context's device. */
    public long[] memGetInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment total = a.allocate(JAVA_LONG);
            MemorySegment free = out("cuMemGetInfo_v2", null, 8, a, (o, x) -> (int) cuMemGetInfo.invokeExact(o, total));
            return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        }
    }

    /** Synchronous host-to-device copy; the host segment may be native, mapped or heap. */
    public void memcpyHtoD(long dst, MemorySegment src, long bytes) {
        call("cuMemcpyHtoD_v2", "copying " + formatBytes(bytes) + " to the device", () -> src.isNative()
                ? (int) cuMemcpyHtoD.invokeExact(dst, src, bytes)
                : (int) cuMemcpyHtoDHeap.invokeExact(dst, src, bytes));
    }

    /** Synchronous device-to-host copy; the host segment may be native or heap. */
    public void memcpyDtoH(MemorySegment dst, long src, long bytes) {
        call("cuMemcpyDtoH_v2", "copying " + formatBytes(bytes) + " to the host", () -> dst.isNative()
                ? (int) cuMemcpyDtoH.invokeExact(dst, src, bytes)
                : (int) cuMemcpyDtoHHeap.invokeExact(dst, src, bytes));
    }

    public void memcpyDtoD(long dst, long src, long bytes) {
        call("cuMemcpyDtoD_v2", null, () -> (int) cuMemcpyDtoD.invokeExact(dst, src, bytes));
    }

    /** Asynchronous host-to-device copy; the host segment must be native (pinned for real overlap). */
    public void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        requireNative(src, "cuMemcpyHtoDAsync_v2");
        call("cuMemcpyHtoDAsync_v2", null, () -> (int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream));
    }

    public void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        requireNative(dst, "cuMemcpyDtoHAsync_v2");
        call("cuMemcpyDtoHAsync_v2", null, () -> (int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream));
    }

    public void memcpyDtoDAsync(long dst, long src, long bytes, MemorySegment stream) {
        call("cuMemcpyDtoDAsync_v2", null, () -> (int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream));
    }

    public void memsetD8(long dst, byte value, long count) {
        call("cuMemsetD8_v2", null, () -> (int) cuMemsetD8.invokeExact(dst, value, count));
    }

    public void memsetD8Async(long dst, byte value, long count, MemorySegment stream) {
        call("cuMemsetD8Async", null, () -> (int) cuMemsetD8Async.invokeExact(dst, value, count, stream));
    }

    /** Page-locked host memory of {@code bytes} (free with {@link #memFreeHost}). */
    public MemorySegment memHostAlloc(long bytes, int flags) {
        return outPtr("cuMemHostAlloc", "allocating " + formatBytes(bytes) + " of pinned host memory",
                (o, a) -> (int) cuMemHostAlloc.invokeExact(o, bytes, flags)).reinterpret(bytes);
    }

    public void memFreeHost(MemorySegment p) {
        call("cuMemFreeHost", null, () -> (int) cuMemFreeHost.invokeExact(p));
    }

    private static void requireNative(MemorySegment s, String call) {
        if (!s.isNative()) {
            throw new IllegalArgumentException(call + " needs a native (preferably pinned) host segment, got a heap "
                    + "segment; use the synchronous copy or a PinnedBuffer");
        }
    }

    // ---- streams, events -----------------------------------------------------------------------------------------

    public MemorySegment streamCreate(int flags) {
        return outPtr("cuStreamCreate", null, (o, a) -> (int) cuStreamCreate.invokeExact(o, flags));
    }

    public void streamSynchronize(MemorySegment stream) {
        call("cuStreamSynchronize", null, () -> (int) cuStreamSynchronize.invokeExact(stream));
    }

    public void streamDestroy(MemorySegment stream) {
        call("cuStreamDestroy_v2", null, () -> (int) cuStreamDestroy.invokeExact(stream));
    }

    public MemorySegment eventCreate(int flags) {
        return outPtr("cuEventCreate", null, (o, a) -> (int) cuEventCreate.invokeExact(o, flags));
    }

    public void eventRecord(MemorySegment event, MemorySegment stream) {
        call("cuEventRecord", null, () -> (int) cuEventRecord.invokeExact(event, stream));
    }

    public void eventSynchronize(MemorySegment event) {
        call("cuEventSynchronize", null, () -> (int) cuEventSynchronize.invokeExact(event));
    }

    /** Milliseconds between two recorded events. */
    public float eventElapsedTime(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            return out(elapsedTimeName, null, 4, a, (o, x) -> (int) cuEventElapsedTime.invokeExact(o, start, end))
                    .get(JAVA_FLOAT, 0);
        }
    }

    public void eventDestroy(MemorySegment event) {
        call("cuEventDestroy_v2", null, () -> (int) cuEventDestroy.invokeExact(event));
    }

    // ---- modules, launches ---------------------------------------------------------------------------------------

    /** Loads a cubin / fatbin / PTX image; the image segment may be freed after the call. */
    public MemorySegment moduleLoadData(MemorySegment image, String what) {
        return outPtr("cuModuleLoadData", "loading " + what, (o, a) -> (int) cuModuleLoadData.invokeExact(o, image));
    }

    public void moduleUnload(MemorySegment module) {
        call("cuModuleUnload", null, () -> (int) cuModuleUnload.invokeExact(module));
    }

    public MemorySegment moduleGetFunction(MemorySegment module, String name) {
        return outPtr("cuModuleGetFunction", "looking up kernel " + name,
                (o, a) -> (int) cuModuleGetFunction.invokeExact(o, module, a.allocateFrom(name)));
    }

    public void funcSetAttribute(MemorySegment function, int attribute, int value) {
        call("cuFuncSetAttribute", null, () -> (int) cuFuncSetAttribute.invokeExact(function, attribute, value));
    }

    /**
     * cuLaunchKernel. {@code params} is the kernelParams array: one pointer per kernel parameter, each pointing at
     * the parameter's value.
     */
    public void launchKernel(MemorySegment function, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes,
                             MemorySegment stream, MemorySegment params, String name) {
        int r;
        try {
            r = (int) cuLaunchKernel.invokeExact(function, gx, gy, gz, bx, by, bz, sharedBytes, stream, params,
                    MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r != 0) {
            check(r, "cuLaunchKernel", "launching " + name + " grid (" + gx + ", " + gy + ", " + gz + ") block (" + bx
                    + ", " + by + ", " + bz + ") shared " + sharedBytes + " B");
        }
    }

    // ---- graphs -------------------------------------------------------------------------------------------------

    public void streamBeginCapture(MemorySegment stream, int mode) {
        call("cuStreamBeginCapture_v2", null, () -> (int) cuStreamBeginCapture.invokeExact(stream, mode));
    }

    public MemorySegment streamEndCapture(MemorySegment stream) {
        return outPtr("cuStreamEndCapture", null, (o, a) -> (int) cuStreamEndCapture.invokeExact(stream, o));
    }

    public MemorySegment graphInstantiate(MemorySegment graph, long flags) {
        return outPtr("cuGraphInstantiateWithFlags", null,
                (o, a) -> (int) cuGraphInstantiateWithFlags.invokeExact(o, graph, flags));
    }

    public void graphLaunch(MemorySegment exec, MemorySegment stream) {
        call("cuGraphLaunch", null, () -> (int) cuGraphLaunch.invokeExact(exec, stream));
    }

    public void graphExecDestroy(MemorySegment exec) {
        call("cuGraphExecDestroy", null, () -> (int) cuGraphExecDestroy.invokeExact(exec));
    }

    public void graphDestroy(MemorySegment graph) {
        call("cuGraphDestroy", null, () -> (int) cuGraphDestroy.invokeExact(graph));
    }

    /** 80.0 GiB, 1.5 MiB, 512 B. */
    public static String formatBytes(long bytes) {
        if (bytes < 1024) return bytes + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
