package dev.cortado.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.cortado.tensor.DType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Optional cuBLASLt GEMM, found at run time (never a build dependency): {@code libcublasLt.so.13 / .12 / .so} in
 * $CUDA_HOME/lib64, each $LD_LIBRARY_PATH entry, /usr/local/cuda/lib64, the NVIDIA pip wheels
 * (site-packages/nvidia/cublas/lib under /usr/lib/python3*, /usr/local/lib/python3*, ~/.local/lib/python3*,
 * $VIRTUAL_ENV) and /usr/lib/x86_64-linux-gnu. Set CORTADO_CUBLASLT=0 to ignore it. When absent, Cortado's own
 * GEMM kernel is used ({@link #describe()} says which).
 *
 * <p>{@link #matmul} computes the nn.Linear product Y[M, N] = X[M, K] . W[N, K]^T (+ bias[N]) as the column-major
 * "TN" GEMM D[N, M] = op(A = W)^T . B (= X^T) with fp32 accumulation and the bias epilogue.
 */
public final class CuBlasLt implements AutoCloseable {
    private static final int CUBLAS_COMPUTE_32F = 68;
    private static final int CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14;
    private static final int DESC_TRANSA = 3, DESC_TRANSB = 4, DESC_EPILOGUE = 7, DESC_BIAS_POINTER = 8;
    private static final int OP_N = 0, OP_T = 1;
    private static final int EPILOGUE_DEFAULT = 1, EPILOGUE_BIAS = 4;
    private static final int PREF_MAX_WORKSPACE_BYTES = 1;
    private static final int HEURISTIC_RESULT_BYTES = 96; // algo (64) + workspaceSize + state + wavesCount + int[4]
    /** Workspace given to cuBLASLt (NVIDIA recommends 32 MiB on Hopper). */
    public static final long WORKSPACE_BYTES = 32L << 20;

    private static final String[] NAMES = {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"};

    private final CudaContext ctx;
    private final Path path;
    private final MethodHandle create, destroy, descCreate, descDestroy, descSet, layoutCreate, layoutDestroy,
            prefCreate, prefDestroy, prefSet, heuristic, matmul;
    private final long version;
    private final MemorySegment handle;
    private final DeviceMemory workspace;
    private final Arena arena = Arena.ofShared();
    private final ConcurrentHashMap<String, Plan> plans = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** A prepared product shape: descriptors and the chosen algorithm (kept for the life of this object). */
    private record Plan(MemorySegment desc, MemorySegment a, MemorySegment b, MemorySegment d, MemorySegment algo) {}

    /** Where cuBLASLt is on this machine, if anywhere. */
    public static Optional<Path> locate() {
        String off = System.getenv("CORTADO_CUBLASLT");
        if ("0".equals(off) || "false".equalsIgnoreCase(off)) return Optional.empty();
        for (Path dir : searchDirectories()) {
            for (String n : NAMES) {
                Path p = dir.resolve(n);
                if (Files.isRegularFile(p)) return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The directories {@link #locate()} searches, in order. */
    public static List<Path> searchDirectories() {
        LinkedHashSet<Path> dirs = new LinkedHashSet<>();
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) dirs.add(Path.of(cudaHome, "lib64"));
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) for (String e : ld.split(":")) if (!e.isBlank()) dirs.add(Path.of(e));
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        List<Path> pythonRoots = new ArrayList<>();
        String venv = System.getenv("VIRTUAL_ENV");
        if (venv != null && !venv.isBlank()) pythonRoots.addAll(glob(Path.of(venv, "lib"), "python3*"));
        pythonRoots.addAll(glob(Path.of("/usr/lib"), "python3*"));
        pythonRoots.addAll(glob(Path.of("/usr/local/lib"), "python3*"));
        pythonRoots.addAll(glob(Path.of(System.getProperty("user.home"), ".local", "lib"), "python3*"));
        for (Path root : pythonRoots) {
            for (String sp : new String[] {"site-packages", "dist-packages"}) {
                dirs.add(root.resolve(sp).resolve("nvidia").resolve("cublas").resolve("lib"));
            }
        }
        dirs.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        return List.copyOf(dirs);
    }

    private static List<Path> glob(Path dir, String pattern) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, pattern)) {
            for (Path p : ds) if (Files.isDirectory(p)) out.add(p);
        } catch (IOException | SecurityException ignored) {
            // unreadable folder: nothing there for us
        }
        out.sort(null);
        return out;
    }

    /** One line for {@code cortado info}: which GEMM runs. */
    public static String describe() {
        return locate().map(p -> "cuBLASLt (" + p + ")").orElse("not found, using Cortado's own GEMM kernel");
    }

    /** Opens cuBLASLt for a context, or empty when it is not installed. Throws when it is there but unusable. */
    public static Optional<CuBlasLt> open(CudaContext ctx) {
        Optional<Path> p = locate();
        return p.map(path -> new CuBlasLt(ctx, path));
    }

    private CuBlasLt(CudaContext ctx, Path path) {
        this.ctx = ctx;
        this.path = path;
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup(path, arena);
        } catch (IllegalArgumentException e) {
            arena.close();
            throw new CudaException("cuBLASLt at " + path + " could not be loaded (" + e.getMessage()
                    + "); set CORTADO_CUBLASLT=0 to use Cortado's own GEMM", e);
        }
        Linker l = Linker.nativeLinker();
        create = bind(l, lib, "cublasLtCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        destroy = bind(l, lib, "cublasLtDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle getVersion = bind(l, lib, "cublasLtGetVersion", FunctionDescriptor.of(JAVA_LONG));
        descCreate = bind(l, lib, "cublasLtMatmulDescCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        descDestroy = bind(l, lib, "cublasLtMatmulDescDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        descSet = bind(l, lib, "cublasLtMatmulDescSetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        layoutCreate = bind(l, lib, "cublasLtMatrixLayoutCreate",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        layoutDestroy = bind(l, lib, "cublasLtMatrixLayoutDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        prefCreate = bind(l, lib, "cublasLtMatmulPreferenceCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        prefDestroy = bind(l, lib, "cublasLtMatmulPreferenceDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        prefSet = bind(l, lib, "cublasLtMatmulPreferenceSetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        heuristic = bind(l, lib, "cublasLtMatmulAlgoGetHeuristic", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        matmul = bind(l, lib, "cublasLtMatmul", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG,
                ADDRESS));
        try {
            version = (long) getVersion.invokeExact();
        } catch (Throwable t) {
            throw new CudaException("cublasLtGetVersion failed: " + t, t);
        }
        ctx.makeCurrent();
        MemorySegment h = arena.allocate(ADDRESS);
        check(call(create, h), "cublasLtCreate");
        handle = h.get(ADDRESS, 0);
        workspace = ctx.allocate(WORKSPACE_BYTES);
    }

    private MethodHandle bind(Linker l, SymbolLookup lib, String name, FunctionDescriptor fd) {
        MemorySegment s = lib.find(name).orElseThrow(() -> new CudaException(path + " has no symbol " + name
                + "; set CORTADO_CUBLASLT=0 to use Cortado's own GEMM"));
        return l.downcallHandle(s, fd);
    }

    private static int call(MethodHandle h, Object... args) {
        try {
            return (int) h.invokeWithArguments(args);
        } catch (Throwable t) {
            throw new CudaException("cuBLASLt call failed: " + t, t);
        }
    }

    private static void check(int status, String what) {
        if (status != 0) throw new CudaException(what + " failed: cuBLAS status " + status + statusName(status));
    }

    private static String statusName(int s) {
        return switch (s) {
            case 1 -> " (CUBLAS_STATUS_NOT_INITIALIZED)";
            case 3 -> " (CUBLAS_STATUS_ALLOC_FAILED)";
            case 7 -> " (CUBLAS_STATUS_INVALID_VALUE)";
            case 8 -> " (CUBLAS_STATUS_ARCH_MISMATCH)";
            case 13 -> " (CUBLAS_STATUS_EXECUTION_FAILED)";
            case 14 -> " (CUBLAS_STATUS_INTERNAL_ERROR)";
            case 15 -> " (CUBLAS_STATUS_NOT_SUPPORTED)";
            default -> "";
        };
    }

    public Path path() { return path; }

    /** e.g. "13.0.2". */
    public String version() {
        return (version / 10000) + "." + (version / 100 % 100) + "." + (version % 100);
    }

    private static int cudaType(DType t) {
        return switch (t) {
            case F32 -> CUDA_R_32F;
            case F16 -> CUDA_R_16F;
            case BF16 -> CUDA_R_16BF;
            default -> throw new CudaException("cuBLASLt GEMM supports f32, f16 and bf16, not " + t);
        };
    }

    private void setInt(MethodHandle setter, MemorySegment obj, int attr, int value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, value);
            check(call(setter, obj, attr, v, 4L), "cuBLASLt set attribute " + attr);
        }
    }

    private void setLong(MethodHandle setter, MemorySegment obj, int attr, long value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_LONG);
            v.set(JAVA_LONG, 0, value);
            check(call(setter, obj, attr, v, 8L), "cuBLASLt set attribute " + attr);
        }
    }

    private MemorySegment layout(int type, long rows, long cols, long ld) {
        MemorySegment p = arena.allocate(ADDRESS);
        check(call(layoutCreate, p, type, rows, cols, ld), "cublasLtMatrixLayoutCreate");
        return p.get(ADDRESS, 0);
    }

    private Plan plan(DType t, int m, int n, int k, boolean bias) {
        String key = t + ":" + m + ":" + n + ":" + k + ":" + bias;
        Plan p = plans.get(key);
        if (p != null) return p;
        synchronized (this) {
            p = plans.get(key);
            if (p != null) return p;
            int ty = cudaType(t);
            MemorySegment dp = arena.allocate(ADDRESS);
            check(call(descCreate, dp, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
            MemorySegment desc = dp.get(ADDRESS, 0);
            setInt(descSet, desc, DESC_TRANSA, OP_T);
            setInt(descSet, desc, DESC_TRANSB, OP_N);
            setInt(descSet, desc, DESC_EPILOGUE, bias ? EPILOGUE_BIAS : EPILOGUE_DEFAULT);
            MemorySegment a = layout(ty, k, n, k);   // W as column-major [K, N], transposed by TRANSA
            MemorySegment b = layout(ty, k, m, k);   // X as column-major [K, M]
            MemorySegment d = layout(ty, n, m, n);   // Y as column-major [N, M]
            MemorySegment prefP = arena.allocate(ADDRESS);
            check(call(prefCreate, prefP), "cublasLtMatmulPreferenceCreate");
            MemorySegment pref = prefP.get(ADDRESS, 0);
            MemorySegment algo = arena.allocate(HEURISTIC_RESULT_BYTES, 16);
            try (Arena tmp = Arena.ofConfined()) {
                setLong(prefSet, pref, PREF_MAX_WORKSPACE_BYTES, WORKSPACE_BYTES);
                if (bias) {
                    // The heuristic checks the bias pointer's alignment; any 256-aligned address stands in for it.
                    setLong(descSet, desc, DESC_BIAS_POINTER, workspace.address());
                }
                MemorySegment count = tmp.allocate(JAVA_INT);
                check(call(heuristic, handle, desc, a, b, d, d, pref, 1, algo, count), "cublasLtMatmulAlgoGetHeuristic");
                if (count.get(JAVA_INT, 0) < 1) {
                    throw new CudaException("cuBLASLt has no algorithm for " + t + " GEMM M=" + m + " N=" + n + " K=" + k);
                }
            } finally {
                call(prefDestroy, pref);
            }
            p = new Plan(desc, a, b, d, algo);
            plans.put(key, p);
            return p;
        }
    }

    /** Y[M, N] = X[M, K] . W[N, K]^T (+ bias[N]), row-major, on {@code stream} (null: default stream). */
    public void matmul(DType t, long y, long x, long w, long bias, int m, int n, int k, CudaStream stream) {
        if (closed) throw new IllegalStateException("cuBLASLt handle is closed");
        if (m <= 0 || n <= 0 || k <= 0) return;
        Plan p = plan(t, m, n, k, bias != 0);
        ctx.makeCurrent();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment alpha = a.allocate(JAVA_FLOAT), beta = a.allocate(JAVA_FLOAT);
            alpha.set(JAVA_FLOAT, 0, 1f);
            beta.set(JAVA_FLOAT, 0, 0f);
            synchronized (p) {
                if (bias != 0) setLong(descSet, p.desc(), DESC_BIAS_POINTER, bias);
                MemorySegment s = CaptureStream.handle(stream);
                int r = call(matmul, handle, p.desc(), alpha, MemorySegment.ofAddress(w), p.a(),
                        MemorySegment.ofAddress(x), p.b(), beta, MemorySegment.ofAddress(y), p.d(),
                        MemorySegment.ofAddress(y), p.d(), p.algo(), MemorySegment.ofAddress(workspace.address()),
                        WORKSPACE_BYTES, s);
                check(r, "cublasLtMatmul (" + t + " M=" + m + " N=" + n + " K=" + k + ")");
            }
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        ctx.makeCurrent();
        for (Plan p : plans.values()) {
            call(layoutDestroy, p.a());
            call(layoutDestroy, p.b());
            call(layoutDestroy, p.d());
            call(descDestroy, p.desc());
        }
        plans.clear();
        call(destroy, handle);
        workspace.close();
        // the library stays mapped: unloading cuBLAS while the process runs is not worth the risk
    }

    @Override
    public String toString() {
        return "cuBLASLt " + version() + " (" + path + ")";
    }
}
