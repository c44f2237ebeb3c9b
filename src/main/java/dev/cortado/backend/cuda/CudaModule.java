package dev.cortado.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loaded CUDA module (cuModuleLoadData) with its functions looked up once and cached. {@link #loadKernels} loads
 * Cortado's own kernels, {@value #KERNELS_RESOURCE}, from the class path (built by native/build-kernels.sh).
 */
public final class CudaModule implements AutoCloseable {
    public static final String KERNELS_RESOURCE = "/dev/cortado/kernels/cortado.fatbin";
    /** Dynamic shared memory a block may use without opting in. */
    public static final int DEFAULT_SHARED_LIMIT = 48 * 1024;

    private final CudaContext ctx;
    private final Arena imageArena;   // keeps the image alive as long as the module (lazy loading may read it later)
    private final MemorySegment module;
    private final String what;
    private final ConcurrentHashMap<String, MemorySegment> functions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Integer> sharedOptin = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private CudaModule(CudaContext ctx, Arena imageArena, MemorySegment module, String what) {
        this.ctx = ctx;
        this.imageArena = imageArena;
        this.module = module;
        this.what = what;
    }

    /** Loads a cubin / fatbin / PTX image. */
    public static CudaModule load(CudaContext ctx, byte[] image, String what) {
        ctx.makeCurrent();
        Arena a = Arena.ofShared();
        try {
            // PTX must be NUL-terminated; a trailing zero does no harm to cubin / fatbin images.
            MemorySegment seg = a.allocate(image.length + 1L, 64);
            MemorySegment.copy(image, 0, seg, ValueLayout.JAVA_BYTE, 0, image.length);
            return new CudaModule(ctx, a, ctx.driver().moduleLoadData(seg, what), what);
        } catch (RuntimeException | Error e) {
            a.close();
            throw e;
        }
    }

    /** Cortado's kernels from the class path. */
    public static CudaModule loadKernels(CudaContext ctx) {
        byte[] image = readKernelsResource();
        if (image == null) {
            throw new CudaException("cortado.fatbin is not on the class path: this build has no CUDA kernels (it was "
                    + "built without nvcc, CORTADO_SKIP_KERNELS=1); rebuild with the CUDA toolkit or use --device cpu");
        }
        return load(ctx, image, "cortado.fatbin (" + CudaDriver.formatBytes(image.length) + ")");
    }

    /** The bytes of cortado.fatbin, or null when the jar was built without kernels. */
    public static byte[] readKernelsResource() {
        try (InputStream in = CudaModule.class.getResourceAsStream(KERNELS_RESOURCE)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new CudaException("cannot read " + KERNELS_RESOURCE + ": " + e.getMessage(), e);
        }
    }

    public static boolean kernelsPresent() {
        return CudaModule.class.getResource(KERNELS_RESOURCE) != null;
    }

    public CudaContext context() { return ctx; }

    /** The CUfunction named {@code name} (an extern "C" kernel), looked up once. */
    public MemorySegment function(String name) {
        if (closed) throw new IllegalStateException("CUDA module " + what + " is unloaded");
        MemorySegment f = functions.get(name);
        if (f != null) return f;
        ctx.makeCurrent();
        f = ctx.driver().moduleGetFunction(module, name);
        functions.putIfAbsent(name, f);
        return f;
    }

    /** True when the module has a kernel of that name. */
    public boolean has(String name) {
        try {
            function(name);
            return true;
        } catch (CudaException e) {
            return false;
        }
    }

    /**
     * Lets {@code name} use {@code bytes} of dynamic shared memory (opting in above 48 KiB); throws when the device
     * cannot give that much.
     */
    public void requireSharedMemory(String name, int bytes) {
        if (bytes <= DEFAULT_SHARED_LIMIT) return;
        Integer done = sharedOptin.get(name);
        if (done != null && done >= bytes) return;
        int limit = ctx.maxSharedMemoryPerBlockOptin();
        if (bytes > limit) {
            throw new CudaException("kernel " + name + " needs " + bytes + " bytes of shared memory per block; "
                    + ctx.name() + " allows " + limit);
        }
        ctx.makeCurrent();
        ctx.driver().funcSetAttribute(function(name), CudaDriver.FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
        sharedOptin.merge(name, bytes, Math::max);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        functions.clear();
        ctx.makeCurrent();
        try {
            ctx.driver().moduleUnload(module);
        } finally {
            imageArena.close();
        }
    }
}
