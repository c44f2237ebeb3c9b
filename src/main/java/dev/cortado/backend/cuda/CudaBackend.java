package dev.cortado.backend.cuda;

import dev.cortado.CortadoException;
import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CUDA backend: {@link Backend} over Cortado's kernels (kernels/*.cu through {@link Kernels}) on one device.
 *
 * <p><b>Tensors.</b> Every tensor this backend returns is a {@link Tensor#onDevice device tensor}: its segment is
 * {@code MemorySegment.ofAddress(devicePtr).reinterpret(bytes)}, never dereferenced on the host (Tensor's host
 * accessors refuse it; read it with {@link #toHost}). Activations and KV caches are stored in the backend's compute
 * type ({@code F32}, or {@code F16}/{@code BF16} when asked): {@link #allocate} maps any float dtype to it and the
 * tensor reports the storage dtype honestly. {@link #fromHost} tensors (the T5 bias) are always fp32, as the
 * attention kernels read the bias in fp32. Arithmetic is fp32 inside every kernel.
 *
 * <p><b>Memory.</b> All device memory comes from the context's caching {@link MemoryPool}; the backend owns its
 * {@link CudaContext} and closing the backend closes it, which returns every block to the driver (no leaks across
 * load/close cycles). Within a model's life, {@link #scope()} releases a step's activations back to the pool, and
 * {@link #free} releases a session's KV cache.
 *
 * <p><b>Weights</b> are converted on the host to the compute type and uploaded once per layout. Linear kernels
 * (GEMV, GEMM, cuBLASLt) read W as [N, K] (nn.Linear layout) while {@link Backend} stores Linear weights as [in,
 * out]: {@link #weightTransposed} uploads its [out, in] host tensor as is; a 2-D tensor given to {@link #weight}
 * is uploaded row-major (embedding tables need that) and the first {@link #linear} over it makes the [N, K] copy
 * (through the host, once) and frees the row-major copy unless an embedding already read it. A weight tensor's
 * segment address is therefore a <em>key</em> (a reserved, never-mapped range), resolved to the right device copy
 * by every op; it is never passed to a kernel as such.
 *
 * <p><b>Ordering.</b> Everything runs on the legacy default stream: kernels, synchronous copies and pool reuse are
 * ordered with each other, so a temporary buffer (ids, positions, block tables, masks) can go back to the pool
 * right after its launch. CUDA graphs and a private stream are later optimizations.
 *
 * <p><b>KV layout.</b> The CPU and CUDA backends share the paged pool layout {@code [blocks, blockSize, kvHeads,
 * headDim]} ({@link KvView#paged}); projection outputs {@code [B, S, H·D]} ({@link KvView#ofRows}) are the same
 * layout with blockSize = S and one block per row. Head-major views ({@link KvView#ofCache}) are refused.
 */
public final class CudaBackend implements Backend {
    /** Weight keys live above every real device address (48-bit on current GPUs). */
    private static final long KEY_BASE = 0x4000_0000_0000_0000L;

    private final CudaContext ctx;
    private final Kernels kernels;
    private final DType compute;
    private final long esize;
    private final Map<Long, DeviceMemory> live = new HashMap<>();        // activation address → allocation
    private final Map<Long, DeviceWeight> weights = new HashMap<>();     // weight key → device copies
    private final IdentityHashMap<float[], DeviceMemory> invFreqs = new IdentityHashMap<>();
    private final ThreadLocal<ArrayDeque<ScopeImpl>> scopes = ThreadLocal.withInitial(ArrayDeque::new);
    private long nextKey = KEY_BASE;
    private boolean closed;

    /** One uploaded weight: row-major (as given) and/or [N, K] (linear) copies. */
    private static final class DeviceWeight {
        final long[] shape;         // as the layers see it
        DeviceMemory rowMajor;      // shape's row-major layout
        DeviceMemory nk;            // 2-D only: [dim1, dim0] (the transpose of the logical shape)
        boolean rowMajorUsed;
        Quant quant;                // a blockwise-quantized linear weight (then rowMajor and nk stay null)

        DeviceWeight(long[] shape) { this.shape = shape; }
    }

    /** QuantizedMatrix's canonical layout on the device: codes [N, K·bits/8], fp32 scales/offsets [N, K / bs]. */
    private record Quant(int bits, int blockSize, DeviceMemory values, DeviceMemory scales, DeviceMemory offsets) {}

    /** fp32 on device {@code ordinal}. */
    public CudaBackend(int ordinal) {
        this(ordinal, DType.F32);
    }

    /**
     * @param compute storage type of weights, activations and the KV cache: F32, F16 or BF16
     * @throws CudaException no driver, no such device, or the device is too old
     */
    public CudaBackend(int ordinal, DType compute) {
        if (compute != DType.F32 && compute != DType.F16 && compute != DType.BF16) {
            throw new IllegalArgumentException("CUDA compute type must be F32, F16 or BF16, not " + compute);
        }
        this.compute = compute;
        this.esize = compute.byteSize();
        this.ctx = CudaContext.open(ordinal);
        try {
            this.kernels = ctx.kernels();
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    public CudaContext context() {
        return ctx;
    }

    public DType computeType() {
        return compute;
    }

    @Override
    public String name() {
        return "cuda:" + ctx.ordinal() + " (" + ctx.name() + ", " + compute.toString().toLowerCase() + ")";
    }

    // ---- memory ------------------------------------------------------------------------------------------------

    private static MemorySegment range(long address, long bytes) {
        return MemorySegment.ofAddress(address).reinterpret(Math.max(bytes, 0));
    }

    private synchronized Tensor track(DeviceMemory m, DType dtype, long[] shape) {
        live.put(m.address(), m);
        ArrayDeque<ScopeImpl> st = scopes.get();
        if (!st.isEmpty()) st.peek().owned.add(m);
        return Tensor.onDevice(dtype, shape, range(m.address(), m.byteSize()));
    }

    private DeviceMemory raw(long bytes) {
        ensureOpen();
        return ctx.allocate(Math.max(bytes, 1));
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("the CUDA backend is closed");
    }

    @Override
    public Tensor allocate(DType dtype, long... shape) {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("CUDA activations are floating point, not " + dtype);
        }
        long bytes = Tensor.numel(shape) * esize;
        DeviceMemory m = raw(bytes);
        try {
            if (bytes > 0) m.zero();
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return track(m, compute, shape);
    }

    @Override
    public long elementBytes(DType dtype) {
        return dtype == DType.F32 || dtype == DType.F16 || dtype == DType.BF16 ? esize : dtype.byteSize();
    }

    @Override
    public Scope scope() {
        ScopeImpl s = new ScopeImpl();
        scopes.get().push(s);
        return s;
    }

    private final class ScopeImpl implements Scope {
        final List<DeviceMemory> owned = new ArrayList<>();
        boolean done;

        @Override
        public Tensor keep(Tensor t) {
            synchronized (CudaBackend.this) {
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
            synchronized (CudaBackend.this) {
                if (closed) return;
                for (DeviceMemory m : owned) {
                    live.remove(m.address0());
                    m.close();
                }
                owned.clear();
            }
        }
    }

    @Override
    public synchronized void free(Tensor t) {
        if (closed || t == null) return;
        DeviceMemory m = live.remove(t.data().address());
        if (m == null) return;
        for (ScopeImpl s : scopes.get()) s.owned.remove(m);
        m.close();
    }

    /** Device address of an activation (or a weight's row-major copy). */
    private long ptr(Tensor t) {
        long a = t.data().address();
        if (a >= KEY_BASE) return rowMajor(t);
        if (!t.isOnDevice()) throw new IllegalArgumentException("not a CUDA tensor (host memory): " + t);
        synchronized (this) {
            if (!live.containsKey(a)) {
                throw new IllegalArgumentException("not a live tensor of this CUDA backend (freed, or another backend's): " + t);
            }
        }
        if (t.dtype() != compute && t.dtype() != DType.F32) throw new IllegalArgumentException("unexpected dtype " + t);
        return a;
    }

    private long ptrOrZero(Tensor t) {
        return t == null ? 0 : ptr(t);
    }

    // ---- host ⇄ device -----------------------------------------------------------------------------------------

    /** Host bytes of {@code v} in {@code t}'s storage type. */
    private static MemorySegment encode(Arena a, float[] v, DType t) {
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

    private static float[] decode(MemorySegment s, DType t, int n) {
        float[] out = new float[n];
        switch (t) {
            case F32 -> MemorySegment.copy(s, Tensor.F32_LE, 0, out, 0, n);
            case F16 -> { for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(s.getAtIndex(Tensor.I16_LE, i)); }
            case BF16 -> { for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((s.getAtIndex(Tensor.I16_LE, i) & 0xffff) << 16); }
            default -> throw new IllegalArgumentException(t.toString());
        }
        return out;
    }

    private DeviceMemory upload(float[] v, DType t) {
        DeviceMemory m = raw((long) v.length * t.byteSize());
        try (Arena a = Arena.ofConfined()) {
            if (v.length > 0) m.copyFrom(encode(a, v, t));
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    private float[] download(long address, DType t, long n) {
        if (n > Integer.MAX_VALUE - 8) throw new CortadoException("tensor too large for a float[]: " + n);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Math.max(1, n * t.byteSize()), 16);
            ctx.makeCurrent();
            if (n > 0) ctx.driver().memcpyDtoH(s, address, n * t.byteSize());
            return decode(s, t, (int) n);
        }
    }

    private DeviceMemory uploadInts(int[] v) {
        DeviceMemory m = raw(4L * v.length);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Math.max(4L, 4L * v.length), 16);
            MemorySegment.copy(v, 0, s, Tensor.I32_LE, 0, v.length);
            if (v.length > 0) m.copyFrom(s.asSlice(0, 4L * v.length));
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    private DeviceMemory uploadBytes(byte[] v) {
        DeviceMemory m = raw(v.length);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Math.max(1, v.length), 16);
            MemorySegment.copy(v, 0, s, ValueLayout.JAVA_BYTE, 0, v.length);
            if (v.length > 0) m.copyFrom(s.asSlice(0, v.length));
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    private DeviceMemory uploadLongs(long[] v) {
        DeviceMemory m = raw(8L * v.length);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Math.max(8L, 8L * v.length), 16);
            MemorySegment.copy(v, 0, s, Tensor.I64_LE, 0, v.length);
            if (v.length > 0) m.copyFrom(s.asSlice(0, 8L * v.length));
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    @Override
    public float[] toHost(Tensor t) {
        ensureOpen();
        return download(ptr(t), t.dtype(), t.numel());
    }

    @Override
    public void copy(Tensor src, long srcOffsetBytes, Tensor dst, long dstOffsetBytes, long bytes) {
        if (bytes == 0) return;
        if (srcOffsetBytes < 0 || dstOffsetBytes < 0 || srcOffsetBytes + bytes > src.data().byteSize()
                || dstOffsetBytes + bytes > dst.data().byteSize()) {
            throw new IndexOutOfBoundsException("copy of " + bytes + " bytes from " + src + " +" + srcOffsetBytes
                    + " to " + dst + " +" + dstOffsetBytes);
        }
        long s = ptr(src), d = ptr(dst);
        ctx.makeCurrent();
        ctx.driver().memcpyDtoD(d + dstOffsetBytes, s + srcOffsetBytes, bytes);
    }

    @Override
    public Tensor fromHost(float[] data, long... shape) {
        if (Tensor.numel(shape) != data.length) throw new IllegalArgumentException("fromHost: " + data.length + " values for shape " + java.util.Arrays.toString(shape));
        return track(upload(data, DType.F32), DType.F32, shape);
    }

    // ---- weights -------------------------------------------------------------------------------------------------

    private synchronized Tensor weightTensor(DeviceWeight w) {
        long bytes = Tensor.numel(w.shape) * esize;
        long key = nextKey;
        nextKey += Math.max(256, (bytes + 255) & ~255L);
        weights.put(key, w);
        return Tensor.onDevice(compute, w.shape, range(key, bytes));
    }

    private synchronized DeviceWeight weightOf(Tensor t) {
        DeviceWeight w = weights.get(t.data().address());
        if (w == null) throw new IllegalArgumentException("not a weight of this CUDA backend (use Backend.weight): " + t);
        return w;
    }

    @Override
    public Tensor weight(Tensor host) {
        ensureOpen();
        DeviceWeight w = new DeviceWeight(host.shape());
        w.rowMajor = upload(host.toFloatArray(), compute);
        return weightTensor(w);
    }

    @Override
    public Tensor weightTransposed(Tensor hostOutIn) {
        if (hostOutIn.rank() != 2) throw new IllegalArgumentException("linear weight must be 2-D: " + hostOutIn);
        ensureOpen();
        DeviceWeight w = new DeviceWeight(new long[] {hostOutIn.dim(1), hostOutIn.dim(0)});
        w.nk = upload(hostOutIn.toFloatArray(), compute); // [out, in] is the kernels' [N, K]
        return weightTensor(w);
    }

    /**
     * Keeps a quantized weight quantized on the device (codes, scales and offsets uploaded as they are); {@link #linear}
     * runs the dequantizing GEMV of kernels/qgemv.cu on it, at any batch size.
     */
    @Override
    public Tensor quantizedWeight(dev.cortado.tensor.QuantizedMatrix q) {
        ensureOpen();
        long vb = (long) q.rows() * q.cols() * q.bits() / 8, sb = (long) q.rows() * q.blocksPerRow() * 4;
        DeviceWeight w = new DeviceWeight(new long[] {q.cols(), q.rows()});
        DeviceMemory v = uploadSegment(q.values(), vb), s = null, o = null;
        try {
            s = uploadSegment(q.scales(), sb);
            o = q.offsets() == null ? null : uploadSegment(q.offsets(), sb);
        } catch (RuntimeException e) {
            v.close();
            if (s != null) s.close();
            throw e;
        }
        w.quant = new Quant(q.bits(), q.blockSize(), v, s, o);
        return weightTensor(w);
    }

    private DeviceMemory uploadSegment(MemorySegment src, long bytes) {
        DeviceMemory m = raw(bytes);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Math.max(1, bytes), 16);
            MemorySegment.copy(src, 0, s, 0, bytes);
            if (bytes > 0) m.copyFrom(s.asSlice(0, bytes));
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }

    /** The [N, K] copy of a 2-D weight whose logical shape is [K, N]. */
    private synchronized long nk(Tensor t) {
        DeviceWeight w = weightOf(t);
        if (w.shape.length != 2) throw new IllegalArgumentException("linear weight must be 2-D: " + t);
        if (w.quant != null) throw new IllegalArgumentException("a quantized weight is only read by linear(): " + t);
        if (w.nk == null) {
            int k = (int) w.shape[0], n = (int) w.shape[1];
            float[] kn = download(w.rowMajor.address(), compute, (long) k * n);
            w.nk = upload(transpose(kn, k, n), compute);
            if (!w.rowMajorUsed) {
                w.rowMajor.close();
                w.rowMajor = null;
            }
        }
        return w.nk.address();
    }

    /** The row-major copy of a weight (embedding tables, norm gains, biases). */
    private synchronized long rowMajor(Tensor t) {
        DeviceWeight w = weightOf(t);
        if (w.quant != null) throw new IllegalArgumentException("a quantized weight is only read by linear(): " + t);
        w.rowMajorUsed = true;
        if (w.rowMajor == null) {
            int k = (int) w.shape[0], n = (int) w.shape[1];
            float[] nkHost = download(w.nk.address(), compute, (long) k * n);
            w.rowMajor = upload(transpose(nkHost, n, k), compute);
        }
        return w.rowMajor.address();
    }

    // ---- ops ---------------------------------------------------------------------------------------------------

    private static int cols(Tensor t) {
        return (int) t.dim(-1);
    }

    private static int rows(Tensor t) {
        return (int) (t.numel() / t.dim(-1));
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
        int k = (int) w.dim(0), n = (int) w.dim(1);
        int m = (int) (x.numel() / k);
        if ((long) m * k != x.numel() || out.numel() != (long) m * n) {
            throw new IllegalArgumentException("linear shapes: x " + x + " w " + w + " out " + out);
        }
        Quant q = weightOf(w).quant;
        if (q != null) {
            kernels.qgemv(compute, q.bits(), ptr(out), ptr(x), q.values().address(), q.scales().address(),
                    q.offsets() == null ? 0L : q.offsets().address(), ptrOrZero(bias), m, n, k, q.blockSize(), null);
            return;
        }
        kernels.linear(compute, ptr(out), ptr(x), nk(w), ptrOrZero(bias), m, n, k, null);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        long n = a.numel(), bn = b.numel();
        if (bn == n) {
            kernels.add(compute, ptr(out), ptr(a), ptr(b), n, null);
        } else if (bn > 0 && n % bn == 0) {
            long pa = ptr(a), po = ptr(out);
            if (pa != po) copy(a, 0, out, 0, n * esize);
            kernels.biasAdd(compute, po, ptr(b), n / bn, (int) bn, Kernels.Activation.NONE, null);
        } else {
            throw new IllegalArgumentException("add shapes: " + a + " + " + b);
        }
    }

    @Override
    public void scale(Tensor x, float s) {
        kernels.scale(compute, ptr(x), x.numel(), s, null);
    }

    @Override
    public void layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out) {
        kernels.layernorm(compute, ptr(out), ptr(x), ptr(gamma), ptrOrZero(beta), rows(x), cols(x), eps, null);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor gamma, float eps, Tensor out) {
        kernels.rmsnorm(compute, ptr(out), ptr(x), ptr(gamma), rows(x), cols(x), eps, 0f, null);
    }

    private static Kernels.Activation act(Activation a) {
        return switch (a) {
            case GELU_ERF -> Kernels.Activation.GELU_ERF;
            case GELU_TANH -> Kernels.Activation.GELU_TANH;
            case RELU -> Kernels.Activation.RELU;
            case SILU -> Kernels.Activation.SILU;
        };
    }

    @Override
    public void activate(Tensor x, Activation a) {
        long p = ptr(x);
        kernels.activation(compute, act(a), p, p, x.numel(), null);
    }

    @Override
    public void gatedActivate(Tensor gate, Tensor up, Activation a) {
        if (gate.numel() != up.numel()) throw new IllegalArgumentException("gated shapes: " + gate + " · " + up);
        long g = ptr(gate);
        kernels.gated(compute, act(a), g, g, ptr(up), rows(gate), cols(gate), cols(gate), null);
    }

    @Override
    public void embedding(Tensor table, int[] ids, Tensor out) {
        int rows = (int) table.dim(0), d = (int) table.dim(1);
        for (int id : ids) {
            if (id < 0 || id >= rows) throw new CortadoException("token id " + id + " outside the embedding table (size " + rows + ")");
        }
        if (out.numel() != (long) ids.length * d) throw new IllegalArgumentException("embedding out " + out + " for " + ids.length + " ids of " + d);
        long tab = ptr(table), o = ptr(out);
        try (DeviceMemory idm = uploadInts(ids)) {
            kernels.embedding(compute, o, idm.address(), tab, 0, 0, ids.length, d, rows, 0, 1f, null);
        }
    }

    @Override
    public void softmax(Tensor x) {
        long p = ptr(x);
        kernels.softmax(compute, p, p, rows(x), cols(x), 1f, null);
    }

    @Override
    public void rope(Tensor x, int heads, int headDim, int rotaryDim, int[] positions, float[] invFreq, boolean interleaved) {
        int tokens = (int) (x.numel() / ((long) heads * headDim));
        if (positions.length < tokens) throw new IllegalArgumentException("rope: " + positions.length + " positions for " + tokens + " tokens");
        long inv;
        synchronized (this) {
            DeviceMemory m = invFreqs.get(invFreq);
            if (m == null) invFreqs.put(invFreq, m = upload(invFreq, DType.F32));
            inv = m.address();
        }
        long p = ptr(x);
        try (DeviceMemory pos = uploadInts(positions)) {
            kernels.rope(compute, p, 0, pos.address(), inv, tokens, heads, 0, headDim, rotaryDim, (long) heads * headDim,
                    0, 1f, interleaved, null);
        }
    }

    /** Slot (row of H·D elements in the pool) of position p of row b in a position-major view. */
    private static long slot(KvView v, int b, int p) {
        return v.offset(b, 0, p) / ((long) v.heads() * v.headDim());
    }

    private static void requireKernelLayout(KvView v) {
        if (!v.isPositionMajor()) {
            throw new IllegalArgumentException("the CUDA attention kernels read position-major K/V ([blocks, blockSize, H, D] "
                    + "or [B, S, H·D]); got strides batch " + v.batchStride() + ", head " + v.headStride() + ", pos " + v.posStride());
        }
    }

    @Override
    public void writeKv(Tensor src, KvView dst, int start) {
        if (src.rank() != 3) throw new IllegalArgumentException("writeKv source must be [B, S, H·D]: " + src);
        requireKernelLayout(dst);
        int batch = (int) src.dim(0), seq = (int) src.dim(1), hd = dst.heads() * dst.headDim();
        if (src.dim(2) != hd) throw new IllegalArgumentException("writeKv: " + src + " into " + dst.heads() + "×" + dst.headDim());
        long[] slots = new long[batch * seq];
        for (int b = 0; b < batch; b++) for (int p = 0; p < seq; p++) slots[b * seq + p] = slot(dst, b, start + p);
        long s = ptr(src), d = ptr(dst.data());
        try (DeviceMemory sl = uploadLongs(slots)) {
            KvCacheView view = new KvCacheView(d, d, 0, 1, 1, dst.heads(), dst.headDim());
            // one tensor at a time: the k and v arguments are the same (identical bytes written twice)
            kernels.kvCacheWrite(compute, view, s, s, sl.address(), batch * seq, hd, hd, null);
        }
    }

    @Override
    public void attention(Tensor q, int heads, int headDim, KvView k, KvView v, int kvLen,
                          AttentionMask mask, float scale, Tensor bias, Tensor out) {
        if (q.rank() != 3) throw new IllegalArgumentException("attention query must be [B, S, H·D]: " + q);
        requireKernelLayout(k);
        requireKernelLayout(v);
        if (k.heads() != v.heads() || k.headDim() != headDim || v.headDim() != headDim || k.blocks() != v.blocks()
                || k.isPaged() != v.isPaged() || k.batchStride() != v.batchStride()) {
            throw new IllegalArgumentException("attention: keys and values must be views of the same shape and block table");
        }
        int batch = (int) q.dim(0), sq = (int) q.dim(1);
        int kvh = k.heads();
        if (mask != null && mask.causal() && mask.queryOffset() != kvLen - sq) {
            throw new IllegalArgumentException("CUDA attention: causal queries must be the newest tokens (offset "
                    + mask.queryOffset() + ", " + sq + " queries, " + kvLen + " keys)");
        }
        List<DeviceMemory> temps = new ArrayList<>();
        try {
            long table = 0;
            int blockSize, maxBlocks;
            if (k.isPaged()) {
                blockSize = k.blockSize();
                maxBlocks = k.blocks()[0].length;
                int[] flat = new int[batch * maxBlocks];
                for (int b = 0; b < batch; b++) {
                    int[] row = k.blocks()[b];
                    for (int j = 0; j < maxBlocks; j++) flat[b * maxBlocks + j] = Math.max(row[j], 0);
                }
                DeviceMemory t = uploadInts(flat);
                temps.add(t);
                table = t.address();
            } else {
                blockSize = (int) (k.batchStride() / k.posStride());
                maxBlocks = 1;
                if (kvLen > blockSize) throw new IllegalArgumentException("attention over " + kvLen + " keys of a view holding " + blockSize);
            }
            KvCacheView view = new KvCacheView(ptr(k.data()), ptr(v.data()), table, Math.max(blockSize, 1), maxBlocks, kvh, headDim);
            int[] lens = new int[batch];
            java.util.Arrays.fill(lens, kvLen);
            DeviceMemory lensDev = uploadInts(lens);
            temps.add(lensDev);
            dev.cortado.backend.cuda.AttentionMask m = dev.cortado.backend.cuda.AttentionMask.NONE;
            if (mask != null && mask.keyValid() != null) {
                byte[] valid = new byte[batch * kvLen];
                for (int b = 0; b < batch; b++) for (int j = 0; j < kvLen; j++) valid[b * kvLen + j] = (byte) (mask.keyValid()[b][j] ? 1 : 0);
                DeviceMemory vm = uploadBytes(valid);
                temps.add(vm);
                m = dev.cortado.backend.cuda.AttentionMask.keys(vm.address(), kvLen);
            }
            if (bias != null) {
                if (bias.dtype() != DType.F32 || bias.numel() != (long) heads * sq * kvLen) {
                    throw new IllegalArgumentException("attention bias must be fp32 [heads, Sq, kvLen]: " + bias);
                }
                m = m.withBias(ptr(bias), 0, (long) sq * kvLen, kvLen);
            }
            boolean causal = mask != null && mask.causal();
            long qStride = (long) heads * headDim;
            if (sq == 1) {
                long ws = AttentionKernels.decodeWorkspaceBytes(batch, heads, headDim, kvLen);
                long wsPtr = 0;
                if (ws > 0) {
                    DeviceMemory w = raw(ws);
                    temps.add(w);
                    wsPtr = w.address();
                }
                // one query at position kvLen - 1: the causal limit is all kvLen keys
                kernels.attention().decode(compute, ptr(out), ptr(q), qStride, view, lensDev.address(), batch, heads,
                        kvLen, scale, m, wsPtr, null);
            } else {
                kernels.attention().prefill(compute, ptr(out), ptr(q), qStride, sq, view, lensDev.address(), 0, batch,
                        heads, scale, causal, m, null);
            }
        } finally {
            for (DeviceMemory t : temps) t.close();
        }
    }

    /** {free, total} device memory in bytes right now. */
    public long[] memoryInfo() {
        return ctx.memoryInfo();
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        live.clear();
        weights.clear();
        invFreqs.clear();
        ctx.close(); // frees the pool, live allocations included
    }
}
