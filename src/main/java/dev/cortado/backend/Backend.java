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

    /**
     * An activation tensor whose contents are unspecified: the caller overwrites every element (a GEMM's or a norm's
     * output). The CPU backend then hands out a {@link #release released} array without zeroing it.
     */
    default Tensor allocateOutput(DType dtype, long... shape) {
        return allocate(dtype, shape);
    }

    /**
     * The caller will never read or write {@code t} again (a layer's temporary): the backend may reuse its memory for
     * a later allocation. The CPU backend recycles the array (a forward pass then allocates from a few buffers instead
     * of hundreds of MB of garbage per batch); the default does nothing (the tensor dies with its scope).
     */
    default void release(Tensor t) {}

    /**
     * A model at {@code source} (its folder or file) is about to be loaded into this backend; {@link #endLoad} follows.
     * The CPU backend then keeps what a quantizing load computes, or the panels it repacks quantized blocks into (GGUF,
     * MatMulNBits), in a cache beside the model and reuses it the next time ({@code .cortado-cache/}; see the README).
     * The default does nothing.
     */
    default void beginLoad(java.nio.file.Path source) {}

    /** The load announced by {@link #beginLoad} ended, successfully ({@code ok}) or not. */
    default void endLoad(boolean ok) {}

    /**
     * What {@link #linearWeight} ({@code outIn} false) or {@link #weightTransposed} ({@code outIn} true) would return
     * for the next host weight of this dtype and shape, when this backend has it without reading that tensor (the CPU
     * backend's pack cache, during a load); null otherwise. A loader then skips building the tensor (a fused
     * concatenation) only to bind it.
     */
    default Tensor cachedLinear(DType dtype, long[] shape, boolean outIn) {
        return null;
    }

    /**
     * What {@link #quantizedWeight} ({@code table} false) or {@link #quantizedTable} ({@code table} true) would return for
     * the next already quantized [rows, cols] weight, when this backend has it without reading that matrix (the CPU
     * backend's pack cache, during a load); null otherwise. A loader then skips converting the source (GGUF blocks).
     */
    default Tensor cachedQuantized(long rows, long cols, boolean table) {
        return null;
    }

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

    /**
     * The token-embedding table of a model whose embeddings are tied to its vocabulary head, served from the head's
     * storage so that the weights are held once: {@code head} is what {@link #headWeight} (or
     * {@link #quantizedWeight}) returned for the [vocab, hidden] matrix, and the result is a [vocab, hidden] table
     * for {@link #embedding} whose rows are the head's output columns, as the head holds them (16-bit or quantized).
     * Null when this backend cannot read that head as a table: the caller then binds the table with {@link #weight}.
     */
    default Tensor tiedEmbedding(Tensor head) {
        return null;
    }

    /**
     * An embedding table [vocab, hidden] given quantized (an untied GGUF {@code token_embd}) held quantized, as a table
     * for {@link #embedding} whose rows equal {@code q}'s rows exactly. Null when this backend cannot hold a quantized
     * table: the caller then binds the dequantized table with {@link #weight}.
     */
    default Tensor quantizedTable(dev.cortado.tensor.QuantizedMatrix q) {
        return null;
    }

    /**
     * The weight of an ONNX {@code MatMulInteger} linear ({@link dev.cortado.tensor.Int8Matrix}): {@link #linear} with
     * the returned tensor computes what ONNX Runtime computes (the activation quantized per tensor to uint8, exact
     * integer accumulation, then × activation scale · weight scale). This default binds the dequantized float32 weight
     * instead (the activation is not quantized, so results differ from ONNX Runtime's by that rounding).
     */
    default Tensor int8Weight(dev.cortado.tensor.Int8Matrix w) {
        return linearWeight(w.dequantize());
    }

    /** A Linear weight given [in, out] (ONNX MatMul / GPT-2 Conv1D layout); the backend may pack it (opaque). */
    default Tensor linearWeight(Tensor hostInOut) {
        return weight(hostInOut);
    }

    /** out[M,N] = x[M,K] · w[K,N] (+ bias[N]). */
    void linear(Tensor x, Tensor w, Tensor bias, Tensor out);

    /**
     * out = act(x · w + bias) (act may be null): a backend may apply the activation in the GEMM's epilogue (the CPU
     * backend does); this default runs {@link #linear} then {@link #activate}.
     */
    default void linear(Tensor x, Tensor w, Tensor bias, Activation act, Tensor out) {
        linear(x, w, bias, out);
        if (act != null) activate(out, act);
    }

    /** out = a + b; b has a's shape or broadcasts over rows (b is [cols]). out may alias a. */
    void add(Tensor a, Tensor b, Tensor out);

    /** x *= s elementwise (scalar). */
    void scale(Tensor x, float s);

    /** LayerNorm over the last dim. beta may be null. out may alias x. */
    void layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out);

    /** RMSNorm over the last dim (T5/Llama: x / sqrt(mean(x²) + eps) · gamma). out may alias x. */
    void rmsNorm(Tensor x, Tensor gamma, float eps, Tensor out);

    /**
     * The residual add inside the norm: residual += x, then out = layerNorm(residual). out may alias residual.
     * (Pre-norm blocks: the residual stream and the next norm's input in one pass; post-norm: out = residual.)
     */
    default void addLayerNorm(Tensor residual, Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out) {
        add(residual, x, residual);
        layerNorm(residual, gamma, beta, eps, out);
    }

    /** residual += x, then out = rmsNorm(residual). out may alias residual. */
    default void addRmsNorm(Tensor residual, Tensor x, Tensor gamma, float eps, Tensor out) {
        add(residual, x, residual);
        rmsNorm(residual, gamma, eps, out);
    }

    enum Activation { GELU_ERF, GELU_TANH, RELU, SILU }

    /** In-place activation. */
    void activate(Tensor x, Activation act);

    /** gate = act(gate) · up (SwiGLU with SILU, gated-GELU with GELU_*), in place into gate. */
    void gatedActivate(Tensor gate, Tensor up, Activation act);

    /**
     * One fused gate|up projection [rows, 2·I] (gate first, as HF's gate_up_proj): out[r, c] = act(gateUp[r, c]) ·
     * gateUp[r, I + c], out [rows, I].
     */
    default void gatedActivate(Tensor gateUp, Activation act, Tensor out) {
        int inter = (int) out.dim(-1);
        Tensor gate = columns(gateUp, 0, inter), up = columns(gateUp, inter, inter);
        gatedActivate(gate, up, act);
        copy(gate, 0, out, 0, gate.numel() * elementBytes(gate.dtype()));
    }

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

    // ---- one step: metadata bound once, read by every layer (DESIGN.md principle 3) ------------------------------

    /**
     * Binds a step's metadata once ({@link StepMetadata}); the layers pass the returned handle to the step ops below.
     * The CPU keeps the host arrays; a device backend uploads them in one copy. Close the handle after the step.
     */
    default Step beginStep(StepMetadata meta) {
        return new Step(meta);
    }

    /** Which index array of a step an embedding reads. */
    enum StepIds { TOKENS, POSITIONS }

    /** {@link #embedding} of the step's token ids or learned-position rows. */
    default void embedding(Tensor table, Step step, StepIds which, Tensor out) {
        int[] ids = which == StepIds.TOKENS ? step.meta().tokenIds() : step.meta().embedPositions();
        if (ids == null) throw new IllegalArgumentException("this step has no " + which.name().toLowerCase() + " ids");
        int n = step.meta().rows() * step.meta().queries();
        embedding(table, ids.length == n ? ids : java.util.Arrays.copyOf(ids, n), out);
    }

    /**
     * Rotary embedding in place at the step's positions: on the {@code heads} heads at columns [0, heads·D) of every
     * row of x, and on {@code kvHeads} more heads right after them (a fused q|k|v projection; 0: none). A row of x
     * is x.dim(-1) elements wide.
     */
    default void rope(Tensor x, int heads, int kvHeads, int headDim, int rotaryDim, Step step, float[] invFreq,
                      boolean interleaved) {
        int[] pos = step.meta().ropePositions();
        if (pos == null) throw new IllegalArgumentException("this step has no rotary positions");
        int width = (heads + kvHeads) * headDim;
        Tensor part = x.dim(-1) == width ? x : columns(x, 0, width);
        rope(part, heads + kvHeads, headDim, rotaryDim, pos, invFreq, interleaved);
        if (part != x) putColumns(part, x, 0);
    }

    /**
     * Writes this step's new keys and values into the self-attention cache views: columns [kCol, kCol + H·D) of k's
     * rows and [vCol, vCol + H·D) of v's rows (k and v may be one fused tensor), row b's token p at cache position
     * {@link StepMetadata.Attn#position}.
     */
    default void writeKv(Tensor k, int kCol, Tensor v, int vCol, KvView kDst, KvView vDst, Step step) {
        StepMetadata.Attn a = step.attn(false);
        int width = kDst.heads() * kDst.headDim();
        Tensor kc = kCol == 0 && k.dim(-1) == width ? k : columns(k, kCol, width);
        Tensor vc = vCol == 0 && v.dim(-1) == width ? v : columns(v, vCol, width);
        if (a.rowStarts() == null) {
            writeKv(kc, kDst, a.start());
            writeKv(vc, vDst, a.start());
        } else {
            writeKvRows(kc, kDst, a.rowStarts());
            writeKvRows(vc, vDst, a.rowStarts());
        }
    }

    /**
     * {@link #attention} with lengths and masks from the step (its self- or cross-attention part); the query heads are
     * columns [0, heads·D) of q's rows (q may be a fused q|k|v projection); out is [B, S, heads·D].
     */
    default void attention(Tensor q, int heads, int headDim, KvView k, KvView v, Step step, boolean cross, float scale,
                           Tensor bias, Tensor out) {
        StepMetadata.Attn a = step.attn(cross);
        Tensor qc = q.dim(-1) == (long) heads * headDim ? q : columns(q, 0, heads * headDim);
        attention(qc, heads, headDim, k, v, a.kvLen(), a.mask(), scale, bias, out);
    }

    /**
     * Self-attention without a cache (an encoder) over one fused q|k|v projection {@code qkv} [B, S, (heads +
     * 2·kvHeads)·headDim] (q, k, v columns in that order), lengths and mask from the step; out is [B, S, heads·D].
     * This default copies keys and values to contiguous [B, S, kvHeads·D] (one KV-write op) and runs
     * {@link #attention}; a backend whose attention reads strided rows reads them in place instead.
     */
    default void selfAttention(Tensor qkv, int heads, int kvHeads, int headDim, Step step, float scale, Tensor bias, Tensor out) {
        int seq = (int) qkv.dim(1), qw = heads * headDim, kw = kvHeads * headDim;
        // (every row of kc/vc is written by writeKv)
        Tensor kc = allocateOutput(qkv.dtype(), qkv.dim(0), seq, kw), vc = allocateOutput(qkv.dtype(), qkv.dim(0), seq, kw);
        KvView kv = KvView.ofRows(kc, seq, kvHeads, headDim), vv = KvView.ofRows(vc, seq, kvHeads, headDim);
        writeKv(qkv, qw, qkv, qw + kw, kv, vv, step);
        attention(qkv, heads, headDim, kv, vv, step, false, scale, bias, out);
        release(kc);
        release(vc);
    }

    /**
     * A T5 relative position bias fp32 [heads, qLen, kLen] computed on the backend from the bucket table
     * ({@code table} [numBuckets, heads], transformers' {@code _relative_position_bucket}) for the step's queries
     * (row 0's positions from its self-attention start; keys 0 .. kLen-1 with kLen the step's key length as the
     * backend's attention reads it), or null when this backend leaves it to the host (the default).
     */
    default Tensor relativePositionBias(float[] table, int numBuckets, int maxDistance, int heads, boolean bidirectional,
                                        int qLen, Step step) {
        return null;
    }

    /**
     * Binds {@code meta} and runs one forward step's ops ({@code body}: the bound step → the step's output, e.g.
     * logits). A device backend may capture the ops of a {@code graphable} step once (CUDA graphs) and replay them for
     * later steps of the same shape: the body then must issue only ops on the bound step and its activations (no
     * host-computed tensors), and must not depend on running each time. This default binds and runs it.
     */
    default Tensor decodeStep(StepMetadata meta, boolean graphable, java.util.function.Function<Step, Tensor> body) {
        try (Step st = beginStep(meta)) {
            return body.apply(st);
        }
    }

    /** A new activation holding columns [col, col + width) of every row of x (row copies through {@link #copy}). */
    default Tensor columns(Tensor x, int col, int width) {
        long[] shape = x.shape();
        long cols = shape[shape.length - 1], rows = x.numel() / cols, eb = elementBytes(x.dtype());
        shape[shape.length - 1] = width;
        Tensor out = allocate(x.dtype(), shape);
        for (long r = 0; r < rows; r++) copy(x, (r * cols + col) * eb, out, r * width * eb, width * eb);
        return out;
    }

    /**
     * The two column halves of x [..., 2·width]: {columns [0, width), columns [width, 2·width)}, each a new
     * activation (a fused k|v projection split into keys and values).
     */
    default Tensor[] splitColumns(Tensor x, int width) {
        if (x.dim(-1) != 2L * width) throw new IllegalArgumentException("splitColumns: rows of " + x.dim(-1) + ", not 2 × " + width);
        return new Tensor[] {columns(x, 0, width), columns(x, width, width)};
    }

    /** Writes part's rows into columns [col, col + part.dim(-1)) of x's rows (the inverse of {@link #columns}). */
    default void putColumns(Tensor part, Tensor x, int col) {
        long width = part.dim(-1), cols = x.dim(-1), rows = x.numel() / cols, eb = elementBytes(x.dtype());
        for (long r = 0; r < rows; r++) copy(part, r * width * eb, x, (r * cols + col) * eb, width * eb);
    }

    /**
     * Greedy selection on the backend: argmax id and its log-softmax value per row of logits [rows, vocab]; only these
     * come back to the host ({@link Greedy#ofHost} is the reference; this default computes it on a host copy).
     */
    default Greedy greedy(Tensor logits) {
        int vocab = (int) logits.dim(-1);
        return Greedy.ofHost(toHost(logits), (int) (logits.numel() / vocab), vocab);
    }

    /**
     * One step's token choice on the backend ({@link TokenChoice}: processors, then greedy / seeded sampling / beam
     * top-k); only {@link Choices} come back. This default is the CPU implementation ({@link HostChoice}) on a host
     * copy of the logits, except a plain greedy pick, which goes through {@link #greedy}.
     */
    default Choices choose(Tensor logits, TokenChoice choice) {
        int vocab = (int) logits.dim(-1), rows = (int) (logits.numel() / vocab);
        if (choice.mode() == TokenChoice.Mode.GREEDY && choice.processors() == null && choice.topLogprobs() < 0) {
            return Choices.greedy(greedy(logits), choice);
        }
        return HostChoice.choose(toHost(logits), rows, vocab, choice);
    }

    // ---- moving data: the only ways generic code touches tensor memory (device tensors are not host-readable) ----

    /** A float32 host copy of all elements of a tensor this backend owns (logits, hidden states). */
    float[] toHost(Tensor t);

    /**
     * {@link #toHost} of a tensor the caller never touches again (a step's logits): the backend may hand over the
     * tensor's own storage instead of a copy (the CPU backend does, for a whole float32 array: no copy of rows × vocab
     * floats per step). This default copies.
     */
    default float[] takeHost(Tensor t) {
        return toHost(t);
    }

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
