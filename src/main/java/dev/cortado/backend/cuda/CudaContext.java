package dev.cortado.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * One device and its primary context (retained on open, released on close), with the objects that belong to it:
 * the caching {@link MemoryPool}, the kernel module ({@link #module()}) and the typed launchers ({@link #kernels()}).
 * CUDA contexts are current per thread: every Cortado class binds the context to the calling thread before a
 * driver call ({@link #makeCurrent()}), so a context may be used from several threads.
 */
public final class CudaContext implements AutoCloseable {
    private static final ThreadLocal<MemorySegment> CURRENT = new ThreadLocal<>();

    private final CudaDriver driver;
    private final int ordinal;
    private final int device;
    private final MemorySegment ctx;
    private final String name;
    private final int ccMajor, ccMinor, smCount, maxSharedOptin;
    private final long totalMemory;
    private final MemoryPool pool;
    private volatile CudaModule module;
    private volatile Kernels kernels;
    private volatile Optional<CuBlasLt> blas;
    private volatile String blasProblem;
    private volatile boolean closed;

    private CudaContext(CudaDriver driver, int ordinal) {
        this.driver = driver;
        this.ordinal = ordinal;
        driver.init();
        int count = driver.deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new CudaException("no CUDA device " + ordinal + ": the driver reports " + count + " device"
                    + (count == 1 ? "" : "s") + (count == 0 ? "; use --device cpu" : ""));
        }
        this.device = driver.device(ordinal);
        this.name = driver.deviceName(device);
        this.ccMajor = driver.deviceAttribute(CudaDriver.ATTR_COMPUTE_CAPABILITY_MAJOR, device);
        this.ccMinor = driver.deviceAttribute(CudaDriver.ATTR_COMPUTE_CAPABILITY_MINOR, device);
        this.smCount = driver.deviceAttribute(CudaDriver.ATTR_MULTIPROCESSOR_COUNT, device);
        this.maxSharedOptin = driver.deviceAttribute(CudaDriver.ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, device);
        this.totalMemory = driver.deviceTotalMem(device);
        if (ccMajor < 8) {
            throw new CudaException("CUDA device " + ordinal + " (" + name + ") has compute capability " + ccMajor + "."
                    + ccMinor + "; Cortado's kernels need 8.0 or newer (Ampere, Ada, Hopper, Blackwell); use --device cpu");
        }
        this.ctx = driver.primaryCtxRetain(device);
        makeCurrent();
        this.pool = new MemoryPool(this);
    }

    /** Opens device {@code ordinal} (0-based): cuInit, cuDeviceGet, cuDevicePrimaryCtxRetain, cuCtxSetCurrent. */
    public static CudaContext open(int ordinal) {
        return new CudaContext(CudaDriver.get(), ordinal);
    }

    /** Binds this context to the calling thread (a no-op when it already is). */
    public void makeCurrent() {
        if (closed) throw new IllegalStateException("CUDA context " + ordinal + " is closed");
        if (CURRENT.get() != ctx) {
            driver.ctxSetCurrent(ctx);
            CURRENT.set(ctx);
        }
    }

    public CudaDriver driver() { return driver; }

    public int ordinal() { return ordinal; }

    /** The CUdevice handle. */
    public int device() { return device; }

    /** The CUcontext handle. */
    public MemorySegment handle() { return ctx; }

    public String name() { return name; }

    public int computeCapabilityMajor() { return ccMajor; }

    public int computeCapabilityMinor() { return ccMinor; }

    /** e.g. 90 for 9.0. */
    public int computeCapability() { return ccMajor * 10 + ccMinor; }

    public int multiprocessorCount() { return smCount; }

    /** Most dynamic shared memory one block may opt into (bytes). */
    public int maxSharedMemoryPerBlockOptin() { return maxSharedOptin; }

    public long totalMemory() { return totalMemory; }

    /** {free, total} device memory in bytes right now (all processes). */
    public long[] memoryInfo() {
        makeCurrent();
        return driver.memGetInfo();
    }

    /** Waits for all work in this context. */
    public void synchronize() {
        makeCurrent();
        driver.ctxSynchronize();
    }

    /** The context's caching device-memory pool. */
    public MemoryPool pool() { return pool; }

    /** Allocates from the pool: shorthand for {@code pool().allocate(bytes)}. */
    public DeviceMemory allocate(long bytes) { return pool.allocate(bytes); }

    public CudaStream createStream() { return new CudaStream(this); }

    /** Cortado's kernels (cortado.fatbin from the class path), loaded on first use. */
    public CudaModule module() {
        CudaModule m = module;
        if (m == null) {
            synchronized (this) {
                m = module;
                if (m == null) module = m = CudaModule.loadKernels(this);
            }
        }
        return m;
    }

    /** Typed launchers for Cortado's kernels. */
    public Kernels kernels() {
        Kernels k = kernels;
        if (k == null) {
            synchronized (this) {
                k = kernels;
                if (k == null) kernels = k = new Kernels(this);
            }
        }
        return k;
    }

    /**
     * cuBLASLt for this context when it is installed and loads (see {@link CuBlasLt#locate()}); empty otherwise, in
     * which case Cortado's own GEMM kernel is used.
     */
    public Optional<CuBlasLt> blas() {
        Optional<CuBlasLt> b = blas;
        if (b == null) {
            synchronized (this) {
                b = blas;
                if (b == null) {
                    try {
                        b = CuBlasLt.open(this);
                    } catch (CudaException e) {
                        blasProblem = e.getMessage();
                        b = Optional.empty();
                    }
                    blas = b;
                }
            }
        }
        return b;
    }

    /** Which GEMM {@link Kernels#linear} uses above GEMV sizes, in words. */
    public String gemmProvider() {
        Optional<CuBlasLt> b = blas();
        if (b.isPresent()) return b.get().toString();
        if (blasProblem != null) return "Cortado's own GEMM kernel (cuBLASLt unusable: " + blasProblem + ")";
        return CuBlasLt.describe();
    }

    public boolean isClosed() { return closed; }

    /** Frees the pool (live allocations included), unloads the module and releases the primary context. */
    @Override
    public synchronized void close() {
        if (closed) return;
        try {
            makeCurrent();
            driver.ctxSynchronize();
        } catch (CudaException ignored) {
            // a sticky error must not keep the memory from being released
        }
        try {
            if (blas != null && blas.isPresent()) blas.get().close();
        } catch (CudaException ignored) {
            // keep releasing
        }
        try {
            pool.close();
            if (module != null) module.close();
        } finally {
            closed = true;
            if (CURRENT.get() == ctx) CURRENT.remove();
            driver.primaryCtxRelease(device);
        }
    }

    @Override
    public String toString() {
        return "cuda:" + ordinal + " (" + name + ", compute capability " + ccMajor + "." + ccMinor + ", "
                + CudaDriver.formatBytes(totalMemory) + ")";
    }
}
