package dev.cortado.backend.cuda;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.Greedy;
import dev.cortado.backend.KvView;
import dev.cortado.backend.Step;
import dev.cortado.backend.StepMetadata;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;

/**
 * The CUDA backend: {@link Backend} over Cortado's kernels (kernels/*.cu through {@link Kernels}) on one device. Like
 * the CPU side, this class is the contract and each op group lives in its own file: {@link CudaMemory} (tensors,
 * scopes, transfers), {@link CudaWeights}, {@link CudaMatmul}, {@link CudaNorms}, {@link CudaElementwise},
 * {@link CudaEmbeddings}, {@link CudaAttention} (attention, KV writes, rotary), {@link CudaSampling}.
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
 * right after its launch. One-token decode steps are the exception: {@link #decodeStep} captures each shape
 * bucket's step once as a CUDA graph on a blocking stream (ordered with the legacy stream) and replays it with one
 * upload and one launch ({@link CudaStepGraphs}; {@code -Dcortado.cudaGraphs=false} turns it off). A backend runs
 * one decode step at a time (a replayed bucket's step buffer and activations are shared by its steps).
 */
public final class CudaBackend implements Backend {
    /**
     * The backend's transfer bookkeeping: host → device copies (and their bytes), device → host and device → device
     * copies, and steps bound ({@link #beginStep}, one host → device copy each).
     */
    public record Transfers(long hostToDevice, long hostToDeviceBytes, long deviceToHost, long deviceToDevice, long steps) {
        public Transfers minus(Transfers before) {
            return new Transfers(hostToDevice - before.hostToDevice, hostToDeviceBytes - before.hostToDeviceBytes,
                    deviceToHost - before.deviceToHost, deviceToDevice - before.deviceToDevice, steps - before.steps);
        }
    }

    private final CudaDevice device;
    private final DType compute;
    private final CudaMemory mem;
    private final CudaWeights weights;
    private final CudaMatmul matmul;
    private final CudaNorms norms;
    private final CudaElementwise elementwise;
    private final CudaEmbeddings embeddings;
    private final CudaAttention attention;
    private final CudaSampling sampling;
    private final CudaStepGraphs graphs;
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
        this(DriverDevice.open(ordinal, checked(compute)), compute);
    }

    /** Over any {@link CudaDevice} (the driver, or a recording stand-in in tests). */
    CudaBackend(CudaDevice device, DType compute) {
        checked(compute);
        this.compute = compute;
        this.device = device;
        Kernels kernels = device.kernels();
        this.mem = new CudaMemory(device, compute);
        this.weights = new CudaWeights(mem);
        mem.bind(weights);
        this.matmul = new CudaMatmul(mem, weights, kernels);
        this.norms = new CudaNorms(mem, kernels);
        this.elementwise = new CudaElementwise(mem, kernels);
        this.embeddings = new CudaEmbeddings(mem, kernels);
        this.attention = new CudaAttention(mem, kernels);
        this.sampling = new CudaSampling(mem, kernels);
        this.graphs = new CudaStepGraphs(mem);
    }

    private static DType checked(DType compute) {
        if (compute != DType.F32 && compute != DType.F16 && compute != DType.BF16) {
            throw new IllegalArgumentException("CUDA compute type must be F32, F16 or BF16, not " + compute);
        }
        return compute;
    }

    /** The driver context (null only for a test stand-in device). */
    public CudaContext context() {
        return device.context();
    }

    /** Transfers so far; subtract two snapshots ({@link Transfers#minus}) to see what one step cost. */
    public Transfers transfers() {
        return mem.transfers();
    }

    public DType computeType() {
        return compute;
    }

    @Override
    public String name() {
        return "cuda:" + device.ordinal() + " (" + device.name() + ", " + compute.toString().toLowerCase() + ")";
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
        graphs.forget(t);
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

    /** The tied table shares the head's [N, K] device copy (one copy of the weights). */
    @Override
    public Tensor tiedEmbedding(Tensor head) {
        return head != null && head.isOnDevice() ? weights.tiedEmbedding(head) : null;
    }

    /** Kept quantized on the device; linear() runs the dequantizing GEMV (kernels/qgemv.cu). */
    @Override
    public Tensor quantizedWeight(dev.cortado.tensor.QuantizedMatrix q) {
        return weights.quantizedWeight(q);
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
    public void addLayerNorm(Tensor residual, Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out) {
        norms.addLayerNorm(residual, x, gamma, beta, eps, out);
    }

    @Override
    public void addRmsNorm(Tensor residual, Tensor x, Tensor gamma, float eps, Tensor out) {
        norms.addRmsNorm(residual, x, gamma, eps, out);
    }

    @Override
    public void gatedActivate(Tensor gateUp, Activation a, Tensor out) {
        elementwise.gatedActivate(gateUp, a, out);
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

    // ---- step ops: the step's metadata read from its one device buffer ------------------------------------------

    @Override
    public Step beginStep(StepMetadata meta) {
        return new CudaStep(mem, meta);
    }

    @Override
    public Tensor relativePositionBias(float[] table, int numBuckets, int maxDistance, int heads, boolean bidirectional,
                                      int qLen, Step step) {
        if (!(step instanceof CudaStep cs) || cs.owner != mem) return null;
        return attention.relativePositionBias(table, numBuckets, maxDistance, heads, bidirectional, qLen, cs);
    }

    /** A one-token decode step runs as its shape bucket's CUDA graph ({@link CudaStepGraphs}) after the first. */
    @Override
    public Tensor decodeStep(StepMetadata meta, boolean graphable, java.util.function.Function<Step, Tensor> body) {
        return graphs.run(meta, graphable, body);
    }

    /** {buckets captured, steps replayed, steps run eagerly} by {@link #decodeStep}. */
    public long[] graphStats() {
        return graphs.stats();
    }

    @Override
    public void embedding(Tensor table, Step step, StepIds which, Tensor out) {
        if (step instanceof CudaStep cs && cs.owner == mem) embeddings.embedding(table, cs, which, out);
        else Backend.super.embedding(table, step, which, out);
    }

    @Override
    public void rope(Tensor x, int heads, int kvHeads, int headDim, int rotaryDim, Step step, float[] invFreq, boolean interleaved) {
        if (step instanceof CudaStep cs && cs.owner == mem && step.meta().ropePositions() != null) {
            attention.rope(x, heads, kvHeads, headDim, rotaryDim, cs, invFreq, interleaved);
        } else {
            Backend.super.rope(x, heads, kvHeads, headDim, rotaryDim, step, invFreq, interleaved);
        }
    }

    @Override
    public void writeKv(Tensor k, int kCol, Tensor v, int vCol, KvView kDst, KvView vDst, Step step) {
        if (attention.binds(step, false, kDst, vDst)) attention.writeKv(k, kCol, v, vCol, kDst, vDst, (CudaStep) step);
        else Backend.super.writeKv(k, kCol, v, vCol, kDst, vDst, step);
    }

    @Override
    public void attention(Tensor q, int heads, int headDim, KvView k, KvView v, Step step, boolean cross, float scale,
                          Tensor bias, Tensor out) {
        if (attention.binds(step, cross, k, v)) attention.attention(q, heads, headDim, k, v, (CudaStep) step, cross, scale, bias, out);
        else Backend.super.attention(q, heads, headDim, k, v, step, cross, scale, bias, out);
    }

    @Override
    public Tensor[] splitColumns(Tensor x, int width) {
        return attention.splitColumns(x, width);
    }

    @Override
    public Greedy greedy(Tensor logits) {
        return sampling.greedy(logits);
    }

    /** On the device when the choice allows it ({@link CudaSampling#supports}); otherwise on a host copy. */
    @Override
    public dev.cortado.backend.Choices choose(Tensor logits, dev.cortado.backend.TokenChoice choice) {
        return sampling.supports(logits, choice) ? sampling.choose(logits, choice) : Backend.super.choose(logits, choice);
    }

    /** {free, total} device memory in bytes right now. */
    public long[] memoryInfo() {
        return device.memoryInfo();
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        graphs.close();
        mem.close();
        weights.close();
        attention.close();
        device.close(); // frees the pool, live allocations included
    }
}
