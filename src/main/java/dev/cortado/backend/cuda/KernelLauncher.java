package dev.cortado.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.cortado.tensor.DType;

/**
 * Launch plumbing for {@link Kernels}: builds the cuLaunchKernel parameter array in a per-thread native buffer
 * (each parameter gets an 8-byte slot; the pointer array pointing at the slots is filled once) and launches by name.
 * The driver copies parameter values during the call, so the buffer is reused by the next launch. A test stand-in
 * overrides {@link #launch}, {@link #gridFor} and {@link #blas} to record launches without a device.
 */
class KernelLauncher {
    static final int MAX_PARAMS = 40;

    /** A parameter list under construction (per thread). */
    static final class Args {
        final MemorySegment values;
        final MemorySegment pointers;
        int n;

        private Args() {
            Arena arena = Arena.ofAuto();
            values = arena.allocate(8L * MAX_PARAMS, 16);
            pointers = arena.allocate(ValueLayout.ADDRESS.byteSize() * MAX_PARAMS, 16);
            for (int i = 0; i < MAX_PARAMS; i++) {
                pointers.setAtIndex(ValueLayout.ADDRESS, i, values.asSlice(8L * i, 8));
            }
        }

        private Args reset() {
            n = 0;
            return this;
        }

        private int slot() {
            if (n >= MAX_PARAMS) throw new IllegalStateException("more than " + MAX_PARAMS + " kernel parameters");
            return n++;
        }

        /** A device pointer (0 for null). */
        Args ptr(long address) {
            values.setAtIndex(ValueLayout.JAVA_LONG, slot(), address);
            return this;
        }

        Args ptr(DeviceMemory m) {
            return ptr(m == null ? 0L : m.address());
        }

        /** A C int. */
        Args i32(int v) {
            values.set(ValueLayout.JAVA_INT, 8L * slot(), v);
            return this;
        }

        /** A C long long. */
        Args i64(long v) {
            values.setAtIndex(ValueLayout.JAVA_LONG, slot(), v);
            return this;
        }

        Args f32(float v) {
            values.set(ValueLayout.JAVA_FLOAT, 8L * slot(), v);
            return this;
        }
    }

    private static final ThreadLocal<Args> ARGS = ThreadLocal.withInitial(Args::new);

    private final CudaContext ctx;

    KernelLauncher(CudaContext ctx) {
        this.ctx = ctx;
    }

    static Args args() {
        return ARGS.get().reset();
    }

    CudaContext context() { return ctx; }

    /** cuBLASLt of the context when present (see {@link CudaContext#blas()}). */
    java.util.Optional<CuBlasLt> blas() { return ctx.blas(); }

    /** Launches {@code name} with a 1-D block of {@code threads}. */
    void launch(String name, int gx, int gy, int gz, int threads, int sharedBytes, CudaStream stream, Args a) {
        if (gx <= 0 || gy <= 0 || gz <= 0) return; // empty problem: nothing to do
        CudaModule m = ctx.module();
        MemorySegment f = m.function(name);
        if (sharedBytes > CudaModule.DEFAULT_SHARED_LIMIT) m.requireSharedMemory(name, sharedBytes);
        ctx.makeCurrent();
        ctx.driver().launchKernel(f, gx, gy, gz, threads, 1, 1, sharedBytes,
                CaptureStream.handle(stream), a.pointers, name);
    }

    // ---- helpers shared by the typed wrappers ------------------------------------------------------------------

    /** Kernel name suffix for a storage type. */
    static String suffix(DType t) {
        return switch (t) {
            case F32 -> "f32";
            case F16 -> "f16";
            case BF16 -> "bf16";
            default -> throw new CudaException("the CUDA kernels compute in f32, f16 or bf16, not " + t);
        };
    }

    /** Elements per 16-byte vector. */
    static int vec(DType t) {
        return 16 / t.byteSize();
    }

    static int pow2ceil(long x) {
        int p = 1;
        while (p < x && p < (1 << 30)) p <<= 1;
        return p;
    }

    /** Threads for a one-block-per-row kernel processing {@code perRow} items. */
    static int rowThreads(long perRow) {
        return Math.clamp(pow2ceil(perRow), 32, 1024);
    }

    /** Blocks of 256 threads for a grid-stride loop over {@code n} items. */
    int gridFor(long n) {
        long want = Math.ceilDiv(Math.max(n, 1), 256);
        long cap = Math.max(1L, (long) ctx.multiprocessorCount() * 32);
        return (int) Math.min(want, cap);
    }
}
