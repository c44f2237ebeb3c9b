package dev.cortado.backend;

import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;

/**
 * The narrow op interface every layer is written against (DESIGN.md principle 3). Shapes are row-major; "rows"
 * means all leading dimensions flattened, "cols" the last one. Activations are float32; weights may be
 * float32 or bfloat16/float16 (upcast inside the kernel). Linear weights are stored [in, out] (ONNX MatMul layout).
 */
public interface Backend extends AutoCloseable {
    String name();

    /** A zero-filled activation tensor owned by this backend. */
    Tensor allocate(DType dtype, long... shape);

    /** Makes a host weight usable by this backend (copy/convert/upload once). */
    Tensor weight(Tensor host);

    /** A Linear weight given [out, in] (HF/PyTorch layout), bound as [in, out]; the backend may pack it (opaque). */
    Tensor weightTransposed(Tensor hostOutIn);

    /**
     * A Linear weight given blockwise-quantized as [out, in] ({@link dev.cortado.tensor.QuantizedMatrix}); the backend
     * keeps it quantized where it has kernels for it. This default dequantizes to float32 once and binds that.
     */
    default Tensor quantizedWeight(dev.cortado.tensor.QuantizedMatrix q) {
        return weightTransposed(q.dequantize());
    }

    /**
     * The vocabulary projection (lm_head, proj_out), given [in, out] ({@code inOut}) or [out, in]: bound like
     * {@link #linearWeight} / {@link #weightTransposed}, except that a backend quantizing weights at load keeps it
     * 16-bit unless told to quantize everything ({@code --quantize-all}).
     */
    default Tensor headWeight(Tensor host, boolean inOut) {
        return inOut ? linearWeight(host) : weightTransposed(host);
    }

    /** A Linear weight given [in, out] (ONNX MatMul / GPT-2 Conv1D layout); the backend may pack it (opaque). */
    default Tensor linearWeight(Tensor hostInOut) {
        return weight(hostInOut);
    }

    /** out[M,N] = x[M,K] · w[K,N] (+ bias[N]). */
    void linear(Tensor x, Tensor w, Tensor bias, Tensor out);

    /** out = a + b; b has a's shape or broadcasts over rows (b is [cols]). out may alias a. */
    void add(Tensor a, Tensor b, Tensor out);

    /** x *= s elementwise (scalar). */
    void scale(Tensor x, float s);

    /** LayerNorm over the last dim. beta may be null. out may alias x. */
    void layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out);

    /** RMSNorm over the last dim (T5/Llama: x / sqrt(mean(x²) + eps) · gamma). out may alias x. */
    void rmsNorm(Tensor x, Tensor gamma, float eps, Tensor out);

    enum Activation { GELU_ERF, GELU_TANH, RELU, SILU }

    /** In-place activation. */
    void activate(Tensor x, Activation act);

    /** gate = act(gate) · up (SwiGLU with SILU, gated-GELU with GELU_*), in place into gate. */
    void gatedActivate(Tensor gate, Tensor up, Activation act);

    /** out[i, :] = table[ids[i], :]; ids out of range fail with a clear error. */
    void embedding(Tensor table, int[] ids, Tensor out);

    /** Softmax over the last dim, in place. */
    void softmax(Tensor x);

    /**
     * Scaled dot-product attention with GQA. q: [B, Sq, Hq·D] rows; keys/values read through {@link KvView};
     * out: [B, Sq, Hq·D]. Key j of batch b is visible to query i when mask allows it.
     */
    void attention(Tensor q, int heads, int headDim, KvView k, KvView v, int kvLen,
                   AttentionMask mask, float scale, Tensor bias, Tensor out);

    /**
     * Copies rows of src [B, S, H·D] into the strided view dst at positions [start, start+S).
     */
    void writeKv(Tensor src, KvView dst, int start);

    /**
     * Ragged append: row b of src [B, 1, H·D] goes to position {@code starts[b]} of row b of the position-major view
     * dst (a paged pool). Written once over {@link #copy}; a backend may override it with one kernel.
     */
    default void writeKvRows(Tensor src, KvView dst, int[] starts) {
        if (src.rank() != 3 || src.dim(1) != 1 || src.dim(0) != starts.length)
            throw new IllegalArgumentException("writeKvRows source must be [" + starts.length + ", 1, H·D]: " + src);
        if (!dst.isPositionMajor()) throw new IllegalArgumentException("writeKvRows needs a position-major view");
        long eb = elementBytes(src.dtype()), row = (long) dst.heads() * dst.headDim() * eb;
        for (int b = 0; b < starts.length; b++) copy(src, b * row, dst.data(), dst.offset(b, 0, starts[b]) * eb, row);
    }

    /** Rotary position embedding in place on x [B, S, H·D]: HF rotate-half (interleaved=false) or llama2.c pairs. */
    void rope(Tensor x, int heads, int headDim, int rotaryDim, int[] positions, float[] invFreq, boolean interleaved);

    // ---- moving data: the only ways generic code touches tensor memory (device tensors are not host-readable) ----

    /** A float32 host copy of all elements of a tensor this backend owns (logits, hidden states). */
    float[] toHost(Tensor t);

    /**
     * Copies {@code bytes} bytes from {@code src} at byte offset {@code srcOffsetBytes} to {@code dst} at
     * {@code dstOffsetBytes}; both tensors belong to this backend (row gathers, KV copy-on-write, beam expansion).
     * Offsets and sizes are in bytes of the tensors' storage.
     */
    void copy(Tensor src, long srcOffsetBytes, Tensor dst, long dstOffsetBytes, long bytes);

    /** A float32 activation of the given shape holding {@code data} (the backend may keep the array). */
    Tensor fromHost(float[] data, long... shape);

    /**
     * Bytes one element of an activation of type {@code dtype} takes in this backend's storage (the CUDA backend
     * may store activations as fp16/bf16); offsets given to {@link #copy} are multiples of it.
     */
    default long elementBytes(DType dtype) {
        return dtype.byteSize();
    }

    /**
     * Opens an allocation scope on the calling thread: activations {@link #allocate allocated} until it closes are
     * released when it closes, except those passed to {@link Scope#keep}. On the CPU (garbage collected) a no-op.
     * Long-lived tensors (KV caches, encoder outputs) are allocated outside a scope or kept.
     */
    default Scope scope() {
        return Scope.NONE;
    }

    /** Releases a tensor allocated outside any scope (a KV cache when its session closes); CPU: no-op. */
    default void free(Tensor t) {}

    /** See {@link #scope()}. */
    interface Scope extends AutoCloseable {
        Scope NONE = new Scope() {
            @Override public Tensor keep(Tensor t) { return t; }
            @Override public void close() {}
        };

        /** Keeps {@code t} alive past this scope (it then belongs to the enclosing scope, or to no scope). */
        Tensor keep(Tensor t);

        @Override
        void close();
    }

    @Override
    default void close() {}
}
