package dev.cortado.backend.cuda;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;

/**
 * The CUDA backend: {@link Backend} over Cortado's kernels (kernels/*.cu through {@link Kernels}) on one device. Like
 * the CPU side, this class is the contract and each op group lives in its own file: {@link CudaMemory} (tensors,
 * scopes, transfers), {@link CudaWeights}, {@link CudaMatmul}, {@link CudaNorms}, {@link CudaElementwise},
 * {@link CudaEmbeddings}, {@link CudaAttention} (attention, KV writes, rotary).
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
 * <p><b>Weights</b>: see {@link CudaWeights} (a weight tensor's address is a key, resolved per op).
 *
 * <p><b>Ordering.</b> Everything runs on the legacy default stream: kernels, synchronous copies and pool reuse are
 * ordered with each other, so a temporary buffer (ids, positions, block tables, masks) can go back to the pool
 * right after its launch. CUDA graphs and a private stream are later optimizations.
 */
public final class CudaBackend implements Backend {
    private final CudaContext ctx;
    private final DType compute;
    private final CudaMemory mem;
    private final CudaWeights weights;
    private final CudaMatmul matmul;
    private final CudaNorms norms;
    private final CudaElementwise elementwise;
    private final CudaEmbeddings embeddings;
    private final CudaAttention attention;
    private boolean closed;

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
        this.ctx = CudaContext.open(ordinal);
        Kernels kernels;
        try {
            kernels = ctx.kernels();
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
        this.mem = new CudaMemory(ctx, compute);
        this.weights = new CudaWeights(mem);
        mem.bind(weights);
        this.matmul = new CudaMatmul(mem, weights, kernels);
        this.norms = new CudaNorms(mem, kernels);
        this.elementwise = new CudaElementwise(mem, kernels);
        this.embeddings = new CudaEmbeddings(mem, kernels);
        this.attention = new CudaAttention(mem, kernels);
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

    @Override
    public Tensor allocate(DType dtype, long... shape) {
        return mem.allocate(dtype, shape);
    }

    @Override
    public long elementBytes(DType dtype) {
        return dtype == DType.F32 || dtype == DType.F16 || dtype == DType.BF16 ? mem.esize : dtype.byteSize();
    }

    @Override
    public Scope scope() {
        return mem.scope();
    }

    @Override
    public void free(Tensor t) {
        mem.free(t);
    }

    @Override
    public float[] toHost(Tensor t) {
        return mem.toHost(t);
    }

    @Override
    public void copy(Tensor src, long srcOffsetBytes, Tensor dst, long dstOffsetBytes, long bytes) {
        mem.copy(src, srcOffsetBytes, dst, dstOffsetBytes, bytes);
    }

    @Override
    public Tensor fromHost(float[] data, long... shape) {
        return mem.fromHost(data, shape);
    }

    // ---- weights -------------------------------------------------------------------------------------------------

    @Override
    public Tensor weight(Tensor host) {
        return weights.weight(host);
    }

    @Override
    public Tensor weightTransposed(Tensor hostOutIn) {
        return weights.weightTransposed(hostOutIn);
    }

    // ---- ops ---------------------------------------------------------------------------------------------------

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
        matmul.linear(x, w, bias, out);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        elementwise.add(a, b, out);
    }

    @Override
    public void scale(Tensor x, float s) {
        elementwise.scale(x, s);
    }

    @Override
    public void layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out) {
        norms.layerNorm(x, gamma, beta, eps, out);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor gamma, float eps, Tensor out) {
        norms.rmsNorm(x, gamma, eps, out);
    }

    @Override
    public void activate(Tensor x, Activation a) {
        elementwise.activate(x, a);
    }

    @Override
    public void gatedActivate(Tensor gate, Tensor up, Activation a) {
        elementwise.gatedActivate(gate, up, a);
    }

    @Override
    public void embedding(Tensor table, int[] ids, Tensor out) {
        embeddings.embedding(table, ids, out);
    }

    @Override
    public void softmax(Tensor x) {
        elementwise.softmax(x);
    }

    @Override
    public void rope(Tensor x, int heads, int headDim, int rotaryDim, int[] positions, float[] invFreq, boolean interleaved) {
        attention.rope(x, heads, headDim, rotaryDim, positions, invFreq, interleaved);
    }

    @Override
    public void writeKv(Tensor src, KvView dst, int start) {
        attention.writeKv(src, dst, start);
    }

    @Override
    public void attention(Tensor q, int heads, int headDim, KvView k, KvView v, int kvLen,
                          AttentionMask mask, float scale, Tensor bias, Tensor out) {
        attention.attention(q, heads, headDim, k, v, kvLen, mask, scale, bias, out);
    }

    /** {free, total} device memory in bytes right now. */
    public long[] memoryInfo() {
        return ctx.memoryInfo();
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        mem.close();
        weights.close();
        attention.close();
        ctx.close(); // frees the pool, live allocations included
    }
}
