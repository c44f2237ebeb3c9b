package dev.cortado.backend.cuda;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CUDA backend's tensors: activations tracked by address (allocation scopes, {@link #free}), pointer resolution
 * (activations directly, weight keys through {@link CudaWeights}) and every host⇄device transfer, counted in
 * {@link #transfers()} (the bookkeeping that shows a step's metadata goes up in one copy).
 */
final class CudaMemory {
    private final CudaDevice device;
    final DType compute;
    final long esize;
    private final Map<Long, DeviceMemory> live = new HashMap<>();        // activation address → allocation
    private final ThreadLocal<ArrayDeque<ScopeImpl>> scopes = ThreadLocal.withInitial(ArrayDeque::new);
    private CudaWeights weights;
    private volatile boolean closed;
    private long h2d, h2dBytes, d2h, d2d, steps;
    private MemorySegment staging;       // page-locked, grown on demand; guarded by stagingLock
    private final Object stagingLock = new Object();

    CudaMemory(CudaDevice device, DType compute) {
        this.device = device;
        this.compute = compute;
        this.esize = compute.byteSize();
    }

    void bind(CudaWeights w) {
        this.weights = w;
    }

    static MemorySegment range(long address, long bytes) {
        return MemorySegment.ofAddress(address).reinterpret(Math.max(bytes, 0));
    }

    static int cols(Tensor t) {
        return (int) t.dim(-1);
    }

    static int rows(Tensor t) {
        return (int) (t.numel() / t.dim(-1));
    }

    synchronized Tensor track(DeviceMemory m, DType dtype, long[] shape) {
        live.put(m.address(), m);
        ArrayDeque<ScopeImpl> st = scopes.get();
        if (!st.isEmpty()) st.peek().owned.add(m);
        return Tensor.onDevice(dtype, shape, range(m.address(), m.byteSize()));
    }

    DeviceMemory raw(long bytes) {
        ensureOpen();
        StepArena a = arena.get();
        if (a != null) return a.take(Math.max(bytes, 1));
        return device.allocate(Math.max(bytes, 1));
    }

    /**
     * Where a graph-captured step's allocations come from: while measuring (the bucket's first, eager step) from the
     * pool as usual, summing their sizes; while capturing, bumped from one block allocated before capture, so every
     * replay finds its activations and scratch at the addresses the graph froze (none goes back to the pool).
     */
    static final class StepArena {
        private final CudaDevice device;
        private final DeviceMemory block;   // null: measuring
        private long used;

        StepArena(CudaDevice device, DeviceMemory block) {
            this.device = device;
            this.block = block;
        }

        DeviceMemory take(long bytes) {
            long at = used;
            used += (bytes + 255) & ~255L;
            if (block == null) return device.allocate(bytes);
            if (used > block.byteSize()) throw new IllegalStateException("a captured step allocates more than its measured " + block.byteSize() + " bytes");
            return block.slice(at, bytes);
        }

        long used() { return used; }
    }

    private final ThreadLocal<StepArena> arena = new ThreadLocal<>();

    /** Routes this thread's allocations to {@code a} (null: back to the pool); returns the previous arena. */
    StepArena arena(StepArena a) {
        StepArena before = arena.get();
        if (a == null) arena.remove();
        else arena.set(a);
        return before;
    }

    CudaDevice device() { return device; }

    void ensureOpen() {
        if (closed) throw new IllegalStateException("the CUDA backend is closed");
    }

    Tensor allocate(DType dtype, long... shape) {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("CUDA activations are floating point, not " + dtype);
        }
        long bytes = Tensor.numel(shape) * esize;
        DeviceMemory m = raw(bytes);
        try {
            if (bytes > 0) device.zero(m);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return track(m, compute, shape);
    }

    Backend.Scope scope() {
        ScopeImpl s = new ScopeImpl();
        scopes.get().push(s);
        return s;
    }

    private final class ScopeImpl implements Backend.Scope {
        final List<DeviceMemory> owned = new ArrayList<>();
        boolean done;

        @Override
        public Tensor keep(Tensor t) {
            synchronized (CudaMemory.this) {
                DeviceMemory m = live.get(t.data().address());
                if (m != null && owned.remove(m)) {
                    ArrayDeque<ScopeImpl> st = scopes.get();
                    ScopeImpl parent = null;
                    boolean below = false;
                    for (ScopeImpl s : st) {
                        if (below) { parent = s; break; }
                        if (s == this) below = true;
                    }
                    if (parent != null) parent.owned.add(m);
                }
            }
            return t;
        }

        @Override
        public void close() {
            if (done) return;
            done = true;
            scopes.get().remove(this);
            synchronized (CudaMemory.this) {
                if (closed) return;
                for (DeviceMemory m : owned) {
                    live.remove(m.address0());
                    m.close();
                }
                owned.clear();
            }
        }
    }

    synchronized void free(Tensor t) {
        if (closed || t == null) return;
        DeviceMemory m = live.remove(t.data().address());
        if (m == null) return;
        for (ScopeImpl s : scopes.get()) s.owned.remove(m);
        m.close();
    }

    /** Device address of an activation (or a weight's row-major copy). */
    long ptr(Tensor t) {
        long a = t.data().address();
        if (a >= CudaWeights.KEY_BASE) return weights.rowMajor(t);
        if (!t.isOnDevice()) throw new IllegalArgumentException("not a CUDA tensor (host memory): " + t);
        synchronized (this) {
            if (!live.containsKey(a)) {
                throw new IllegalArgumentException("not a live tensor of this CUDA backend (freed, or another backend's): " + t);
            }
        }
        if (t.dtype() != compute && t.dtype() != DType.F32) throw new IllegalArgumentException("unexpected dtype " + t);
        return a;
    }

    long ptrOrZero(Tensor t) {
        return t == null ? 0 : ptr(t);
    }

    // ---- host ⇄ device -----------------------------------------------------------------------------------------

    /** Host bytes of {@code v} in {@code t}'s storage type. */
    static MemorySegment encode(Arena a, float[] v, DType t) {
        MemorySegment s = a.allocate((long) v.length * t.byteSize(), 16);
        switch (t) {
            case F32 -> MemorySegment.copy(v, 0, s, Tensor.F32_LE, 0, v.length);
            case F16 -> { for (int i = 0; i < v.length; i++) s.setAtIndex(Tensor.I16_LE, i, Float.floatToFloat16(v[i])); }
            case BF16 -> { for (int i = 0; i < v.length; i++) s.setAtIndex(Tensor.I16_LE, i, toBf16(v[i])); }
            default -> throw new IllegalArgumentException(t.toString());
        }
        return s;
    }

    /** bf16 bits, round to nearest even (as torch). */
    static short toBf16(float f) {
        if (Float.isNaN(f)) return (short) 0x7fc0;
        int bits = Float.floatToRawIntBits(f);
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    static float[] decode(MemorySegment s, DType t, int n) {
        float[] out = new float[n];
        switch (t) {
            case F32 -> MemorySegment.copy(s, Tensor.F32_LE, 0, out, 0, n);
            case F16 -> { for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(s.getAtIndex(Tensor.I16_LE, i)); }
            case BF16 -> { for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((s.getAtIndex(Tensor.I16_LE, i) & 0xffff) << 16); }
            default -> throw new IllegalArgumentException(t.toString());
        }
        return out;
    }

    DeviceMemory upload(float[] v, DType t) {
        DeviceMemory m = raw((long) v.length * t.byteSize());
        try (Arena a = Arena.ofConfined()) {
            if (v.length > 0) upload(m.address(), encode(a, v, t), (long) v.length * t.byteSize());
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    float[] download(long address, DType t, long n) {
        if (n > Integer.MAX_VALUE - 8) throw new CortadoException("tensor too large for a float[]: " + n);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Math.max(1, n * t.byteSize()), 16);
            if (n > 0) {
                device.download(s, address, n * t.byteSize());
                synchronized (this) { d2h++; }
            }
            return decode(s, t, (int) n);
        }
    }

    /** {@code n} int32 values from the device. */
    int[] downloadInts(long address, int n) {
        int[] out = new int[n];
        if (n == 0) return out;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(4L * n, 16);
            device.download(s, address, 4L * n);
            synchronized (this) { d2h++; }
            MemorySegment.copy(s, Tensor.I32_LE, 0, out, 0, n);
        }
        return out;
    }

    /** One float32 from the device. */
    float downloadFloat(long address) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(4, 16);
            device.download(s, address, 4);
            synchronized (this) { d2h++; }
            return s.get(Tensor.F32_LE, 0);
        }
    }

    DeviceMemory uploadInts(int[] v) {
        return uploadRaw(v.length * 4L, s -> MemorySegment.copy(v, 0, s, Tensor.I32_LE, 0, v.length));
    }

    DeviceMemory uploadBytes(byte[] v) {
        return uploadRaw(v.length, s -> MemorySegment.copy(v, 0, s, ValueLayout.JAVA_BYTE, 0, v.length));
    }

    DeviceMemory uploadLongs(long[] v) {
        return uploadRaw(v.length * 8L, s -> MemorySegment.copy(v, 0, s, Tensor.I64_LE, 0, v.length));
    }

    private DeviceMemory uploadRaw(long bytes, java.util.function.Consumer<MemorySegment> fill) {
        DeviceMemory m = raw(bytes);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Math.max(8L, bytes), 16);
            fill.accept(s);
            if (bytes > 0) upload(m.address(), s, bytes);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    float[] toHost(Tensor t) {
        ensureOpen();
        return download(ptr(t), t.dtype(), t.numel());
    }

    void copy(Tensor src, long srcOffsetBytes, Tensor dst, long dstOffsetBytes, long bytes) {
        if (bytes == 0) return;
        if (srcOffsetBytes < 0 || dstOffsetBytes < 0 || srcOffsetBytes + bytes > src.data().byteSize()
                || dstOffsetBytes + bytes > dst.data().byteSize()) {
            throw new IndexOutOfBoundsException("copy of " + bytes + " bytes from " + src + " +" + srcOffsetBytes
                    + " to " + dst + " +" + dstOffsetBytes);
        }
        long s = ptr(src), d = ptr(dst);
        device.copy(d + dstOffsetBytes, s + srcOffsetBytes, bytes);
        synchronized (this) { d2d++; }
    }

    Tensor fromHost(float[] data, long... shape) {
        if (Tensor.numel(shape) != data.length) throw new IllegalArgumentException("fromHost: " + data.length + " values for shape " + java.util.Arrays.toString(shape));
        return track(upload(data, DType.F32), DType.F32, shape);
    }

    /** Every host → device copy goes through here (counted). */
    private void upload(long dst, MemorySegment src, long bytes) {
        device.upload(dst, src, bytes);
        synchronized (this) {
            h2d++;
            h2dBytes += bytes;
        }
    }

    /**
     * A step's packed metadata in one host → device copy: filled into the page-locked staging buffer, uploaded into
     * a fresh pool block (released when the step closes; the legacy stream orders its reuse after the step's kernels).
     */
    DeviceMemory uploadStep(StepPlan plan) {
        DeviceMemory m = raw(plan.bytes());
        try {
            uploadStep(plan, m);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    /** A step's packed metadata into {@code m} (at least {@link StepPlan#bytes()} long), one host → device copy. */
    void uploadStep(StepPlan plan, DeviceMemory m) {
        if (m.byteSize() < plan.bytes()) throw new IllegalArgumentException("step buffer of " + m.byteSize() + " bytes for " + plan.bytes());
        {
            synchronized (stagingLock) {
                if (staging == null || staging.byteSize() < plan.bytes()) {
                    if (staging != null) device.freePinned(staging);
                    staging = null;
                    staging = device.pinned(Math.max(4096, Long.highestOneBit(plan.bytes()) << 1));
                }
                plan.fill(staging);
                upload(m.address(), staging, plan.bytes());
            }
        }
        synchronized (this) { steps++; }
    }

    /** The transfers so far (host → device copies and bytes, device → host and device → device copies, steps bound). */
    synchronized CudaBackend.Transfers transfers() {
        return new CudaBackend.Transfers(h2d, h2dBytes, d2h, d2d, steps);
    }

    synchronized void close() {
        closed = true;
        live.clear();
        synchronized (stagingLock) {
            if (staging != null) device.freePinned(staging);
            staging = null;
        }
    }
}
