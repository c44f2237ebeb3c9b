package dev.cortado.backend.cpu;

import dev.cortado.CortadoException;
import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import dev.cortado.backend.Quantization;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Quantizer;
import java.lang.foreign.MemorySegment;

/**
 * The CPU backend: Java Vector API kernels over heap arrays, one shared {@link WorkerPool} (scalar twins when the
 * Vector API is not in the boot layer: {@link Simd}). Activations are
 * float32 heap tensors. Weights are held once, in native memory owned by the backend (freed on close): Linear weights
 * packed into column panels ({@link PackedWeight}) as float32, bfloat16 or float16 (16-bit stays 16-bit, widened
 * in registers) or int8/int4 blocks (dequantized in registers, {@link QuantMatmul}); large embedding tables copied
 * once; small vectors (biases, norms) stay float32 arrays.
 */
public final class CpuBackend implements Backend {
    private final WorkerPool pool;

    public CpuBackend() {
        this(WorkerPool.shared());
    }

    public CpuBackend(WorkerPool pool) {
        this(pool, DType.F32);
    }

    /**
     * {@code linearDtype} BF16 stores Linear weights as bfloat16 (converted once at load, round-to-nearest-even,
     * widened in-register): half the bytes per decode step. Activations, norms and embeddings stay float32.
     */
    public CpuBackend(WorkerPool pool, DType linearDtype) {
        this(pool, linearDtype, Quantization.NONE);
    }

    /**
     * {@code quantization} int8/int4 quantizes float Linear weights at load (round-to-nearest, blocks of 32; see
     * {@link Quantizer}); the vocabulary head ({@link #headWeight}) and large embedding tables are then kept as
     * bfloat16 unless {@link Quantization#all()}. float16/bfloat16 weights are never widened (in-register).
     */
    public CpuBackend(WorkerPool pool, DType linearDtype, Quantization quantization) {
        if (linearDtype != DType.F32 && linearDtype != DType.BF16) {
            throw new CortadoException("the CPU backend stores linear weights as f32 or bf16, not " + linearDtype);
        }
        this.pool = pool;
        this.weights = new CpuWeights(quantization, linearDtype);
        Simd.warnOnce();
    }


    /** Runs tiny ops on the calling thread: a pool hand-off costs more than it saves below {@link #serialBelow}. */
    private static final WorkerPool SERIAL = new WorkerPool(1);
    /**
     * Multiply-adds below which a linear or an attention runs on the calling thread (measured on the 3.6M-parameter
     * translator: a 192×192 decode GEMV is ≈ 2 µs alone but ≈ 20 µs handed to a second core; see {@link #tiny}).
     */
    static final long SERIAL_MACS = Long.getLong("cortado.cpu.serialMacs", 1L << 18);
    private long serialBelow = SERIAL_MACS;

    /** For measurements: the multiply-add count below which ops stay on the calling thread (0: never). */
    CpuBackend serialBelow(long macs) {
        this.serialBelow = macs;
        return this;
    }

    /** The pool for an op of {@code macs} multiply-adds: the caller alone when it is tiny. */
    private WorkerPool tiny(long macs) {
        return macs < serialBelow ? SERIAL : pool;
    }

    /** One decode step runs as a pool {@link WorkerPool#section}: the workers stay awake across its ~100 ops. */
    @Override
    public Tensor decodeStep(dev.cortado.backend.StepMetadata meta, boolean graphable,
                             java.util.function.Function<dev.cortado.backend.Step, Tensor> body) {
        try (WorkerPool.Section s = pool.section()) {
            return Backend.super.decodeStep(meta, graphable, body);
        }
    }

    @Override
    public String name() {
        return "cpu (" + pool.threads() + " threads, " + CpuElementwise.describe() + ")";
    }

    @Override
    public Tensor allocate(DType dtype, long... shape) {
        if (dtype != DType.F32) throw new IllegalArgumentException("CPU activations are float32, not " + dtype);
        long n = Tensor.numel(shape);
        if (n > Integer.MAX_VALUE - 8) throw new CortadoException("activation too large for the CPU backend: " + n + " elements");
        return new Tensor(DType.F32, shape, MemorySegment.ofArray(new float[(int) n]));
    }

    @Override
    public Tensor allocateOutput(DType dtype, long... shape) {
        if (dtype != DType.F32) throw new IllegalArgumentException("CPU activations are float32, not " + dtype);
        long n = Tensor.numel(shape);
        float[] a = n >= RecycledArrays.MIN && n <= Integer.MAX_VALUE - 8 ? recycled.take((int) n) : null;
        return a == null ? allocate(dtype, shape) : new Tensor(DType.F32, shape, MemorySegment.ofArray(a));
    }

    @Override
    public void release(Tensor t) {
        if (t != null && t.dtype() == DType.F32 && t.data().heapBase().orElse(null) instanceof float[] a
                && t.data().address() == 0 && a.length >= RecycledArrays.MIN) {
            recycled.give(a);
        }
    }

    private final RecycledArrays recycled = new RecycledArrays();

    static float[] f(Tensor t) {
        MemorySegment s = t.data();
        if (t.dtype() == DType.F32 && s.heapBase().orElse(null) instanceof float[] a && s.address() == 0) return a;
        throw new IllegalArgumentException("not a CPU float32 tensor: " + t);
    }

    @Override
    public float[] toHost(Tensor t) {
        return t.toFloatArray();
    }

    /** The tensor's own array when it is a whole float32 heap array (the tensor is not used again), else a copy. */
    @Override
    public float[] takeHost(Tensor t) {
        return whole(t) ? f(t) : t.toFloatArray();
    }

    private static boolean whole(Tensor t) {
        MemorySegment s = t.data();
        return t.dtype() == DType.F32 && s.heapBase().orElse(null) instanceof float[] a && s.address() == 0 && a.length == t.numel();
    }

    /** The greedy pick read straight from the logits' array (the contract's default first copies rows × vocab floats). */
    @Override
    public dev.cortado.backend.Greedy greedy(Tensor logits) {
        int vocab = (int) logits.dim(-1);
        return dev.cortado.backend.Greedy.ofHost(whole(logits) ? f(logits) : logits.toFloatArray(), (int) (logits.numel() / vocab), vocab);
    }

    /** The token choice on the logits' own array ({@link dev.cortado.backend.HostChoice} only reads it): no host copy. */
    @Override
    public dev.cortado.backend.Choices choose(Tensor logits, dev.cortado.backend.TokenChoice choice) {
        if (!whole(logits)) return Backend.super.choose(logits, choice);
        int vocab = (int) logits.dim(-1), rows = (int) (logits.numel() / vocab);
        if (choice.mode() == dev.cortado.backend.TokenChoice.Mode.GREEDY && choice.processors() == null && choice.topLogprobs() < 0) {
            return dev.cortado.backend.Choices.greedy(greedy(logits), choice);
        }
        return dev.cortado.backend.HostChoice.choose(f(logits), rows, vocab, choice);
    }

    @Override
    public void copy(Tensor src, long srcOffsetBytes, Tensor dst, long dstOffsetBytes, long bytes) {
        MemorySegment.copy(src.data(), srcOffsetBytes, dst.data(), dstOffsetBytes, bytes);
    }

    @Override
    public Tensor fromHost(float[] data, long... shape) {
        return new Tensor(DType.F32, shape, MemorySegment.ofArray(data));
    }

    /** Weights held once in native memory, freed on close ({@link CpuWeights}). */
    private final CpuWeights weights;
    /** Tables at least this large (elements) go to native memory; smaller weights stay float32 arrays for the elementwise ops. */
    static final long NATIVE_TABLE = CpuWeights.NATIVE_TABLE;

    @Override
    public Tensor weight(Tensor host) {
        return weights.weight(host);
    }

    @Override
    public Tensor linearWeight(Tensor host) {
        return weights.linearWeight(host);
    }

    @Override
    public Tensor weightTransposed(Tensor host) {
        return weights.weightTransposed(host);
    }

    @Override
    public Tensor headWeight(Tensor host, boolean inOut) {
        return weights.headWeight(host, inOut);
    }

    @Override
    public Tensor quantizedWeight(QuantizedMatrix q) {
        return weights.quantizedWeight(q);
    }

    @Override
    public Tensor cachedLinear(DType dtype, long[] shape, boolean outIn) {
        return weights.cachedLinear(dtype, shape, outIn);
    }

    @Override
    public Tensor cachedQuantized(long rows, long cols, boolean table) {
        return weights.cachedQuantized(rows, cols, table);
    }

    /** Turns the pack cache on or off for this backend's loads, whatever {@code cortado.packCache} says (tests). */
    public CpuBackend packCache(boolean on) {
        weights.packCache(on);
        return this;
    }

    /** Whether loads of float weights only write the pack cache too, whatever {@code cortado.packCache=all} says (tests). */
    public CpuBackend packCacheFloats(boolean on) {
        weights.packCacheFloats(on);
        return this;
    }

    @Override
    public void beginLoad(java.nio.file.Path source) {
        weights.beginLoad(source);
    }

    @Override
    public void endLoad(boolean ok) {
        weights.endLoad(ok);
        packCacheHits = weights.packCacheHits;
    }

    /** For tests and logs: how many weights the last load took from the pack cache (−1: no cache). */
    int packCacheHits = -1;

    @Override
    public Tensor quantizedTable(QuantizedMatrix q) {
        return weights.quantizedTable(q);
    }

    @Override
    public Tensor tiedEmbedding(Tensor head) {
        return weights.tiedEmbedding(head);
    }

    private PackedWeight packedOf(Tensor w) {
        return weights.packedOf(w);
    }

    /** Bytes of native memory holding this backend's packed weights and tables. */
    public long weightBytes() {
        return weights.weightBytes();
    }

    @Override
    public void close() {
        weights.close();
    }

    @Override
    public Tensor int8Weight(dev.cortado.tensor.Int8Matrix w) {
        return Int8Weights.bind(w);
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
        linear(x, w, bias, null, out);
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Activation act, Tensor out) {
        Int8Weights.Packed q = Int8Weights.of(w);
        if (q != null) {
            if (x.numel() % q.k() != 0 || out.numel() != x.numel() / q.k() * q.n()) throw new IllegalArgumentException("linear shapes: x " + x + " w " + w + " out " + out);
            Int8Weights.linear(f(x), q, bias == null ? null : f(bias), f(out), (int) (x.numel() / q.k()), pool);
            if (act != null) activate(out, act);
            return;
        }
        PackedWeight p = packedOf(w);
        int k = p.k, n = p.n;
        int m = (int) (x.numel() / k);
        if ((long) m * k != x.numel() || out.numel() != (long) m * n) {
            throw new IllegalArgumentException("linear shapes: x " + x + " w " + w + " out " + out);
        }
        WorkerPool on = tiny((long) m * k * n);
        if (Simd.VECTOR) {
            PackedMatmul.matmul(f(x), p, bias == null ? null : f(bias), act, f(out), m, on);
        } else {
            ScalarPackedMatmul.matmul(f(x), p, bias == null ? null : f(bias), f(out), m, on);
            if (act != null) activate(out, act);
        }
    }

    /** Element counts up to which {@link #add} runs a plain loop (see there). */
    private static final int SCALAR_ADD = 1 << 16;

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        float[] x = f(a), y = f(b), z = f(out);
        int n = (int) a.numel(), bn = (int) b.numel();
        if (bn == n && n <= SCALAR_ADD) {
            // a decode step's adds (position embeddings, the last residual) run once per step: too rarely for C2 to
            // compile a Vector API loop soon, and C1's Vector API code boxes every vector (a few KB of garbage per
            // call for thousands of steps); C2 vectorizes this plain loop itself (one float add per element either way)
            for (int i = 0; i < n; i++) z[i] = x[i] + y[i];
        } else if (bn == n) {
            CpuElementwise.add(x, y, z, n);
        } else if (n % bn == 0) {
            for (int r = 0; r < n; r += bn) for (int j = 0; j < bn; j++) z[r + j] = x[r + j] + y[j];
        } else {
            throw new IllegalArgumentException("add shapes: " + a + " + " + b);
        }
    }

    @Override
    public void scale(Tensor x, float s) {
        float[] a = f(x);
        for (int i = 0, n = (int) x.numel(); i < n; i++) a[i] *= s;
    }

    @Override
    public void layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out) {
        float[] a = f(x), g = f(gamma), b = beta == null ? null : f(beta), o = f(out);
        int d = (int) x.dim(-1);
        rows(d, (int) (x.numel() / d), (r0, r1) -> CpuNorms.layerNorm(a, g, b, eps, o, d, r0, r1));
    }

    @Override
    public void rmsNorm(Tensor x, Tensor gamma, float eps, Tensor out) {
        float[] a = f(x), g = f(gamma), o = f(out);
        int d = (int) x.dim(-1);
        rows(d, (int) (x.numel() / d), (r0, r1) -> CpuNorms.rmsNorm(a, g, eps, o, d, r0, r1));
    }

    /** A row-wise op over rows of width d: across the pool when there is enough work (each row's math is unchanged). */
    private void rows(int d, int rows, WorkerPool.RangeBody body) {
        if ((long) rows * d < 1 << 15 || rows < 2) body.run(0, rows);
        else pool.parallelFor(rows, body);
    }

    @Override
    public void activate(Tensor x, Activation act) {
        float[] a = f(x);
        int n = (int) x.numel();
        // chunk edges on multiples of 64 floats (a whole number of vectors of any width): the vector body covers the
        // same elements as one pass over [0, n) and only the last n % L go through the scalar tail, so the bits do
        // not depend on the thread count
        int threads = n >= 1 << 14 ? pool.threads() : 1, blocks = (n + 63) / 64;
        pool.parallelFor(threads, (t0, t1) -> CpuActivations.apply(a, (int) Math.min(n, 64L * ((long) blocks * t0 / threads)),
                t1 == threads ? n : (int) Math.min(n, 64L * ((long) blocks * t1 / threads)), act));
    }

    @Override
    public void gatedActivate(Tensor gate, Tensor up, Activation act) {
        float[] g = f(gate), u = f(up);
        int n = (int) gate.numel();
        CpuActivations.apply(g, 0, n, act);
        CpuElementwise.mul(g, u, n);
    }

    @Override
    public void embedding(Tensor table, int[] ids, Tensor out) {
        int rows = (int) table.dim(0), d = (int) table.dim(1);
        float[] o = f(out);
        QuantizedMatrix q = table.isOnDevice() ? weights.quantTables.get(table.data().address()) : null;
        PackedWeight head = table.isOnDevice() && q == null ? weights.headTables.get(table.data().address()) : null;
        if (head != null) {
            for (int i = 0; i < ids.length; i++) {
                int id = ids[i];
                if (id < 0 || id >= rows) throw new CortadoException("token id " + id + " outside the embedding table (size " + rows + ")");
                head.column(id, o, i * d);
            }
            return;
        }
        if (table.isOnDevice() && q == null) throw new IllegalArgumentException("not an embedding table of this CPU backend: " + table);
        Object w = q != null ? null : table.data().heapBase().orElse(null);
        MemorySegment seg = table.data();
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (id < 0 || id >= rows) throw new CortadoException("token id " + id + " outside the embedding table (size " + rows + ")");
            if (q != null) {
                for (int j = 0; j < d; j++) o[i * d + j] = q.get(id, j);
            } else if (w instanceof float[] fw) {
                System.arraycopy(fw, id * d, o, i * d, d);
            } else if (w instanceof short[] sw) {
                for (int j = 0; j < d; j++) o[i * d + j] = PackedWeight.bf16(sw[id * d + j]);
            } else if (table.dtype() == DType.F32) {
                MemorySegment.copy(seg, Tensor.F32_LE, (long) id * d * 4, o, i * d, d);
            } else {
                boolean f16 = table.dtype() == DType.F16;
                for (int j = 0; j < d; j++) {
                    short b = seg.getAtIndex(Tensor.I16_LE, (long) id * d + j);
                    o[i * d + j] = f16 ? Float.float16ToFloat(b) : PackedWeight.bf16(b);
                }
            }
        }
    }

    @Override
    public void softmax(Tensor x) {
        int cols = (int) x.dim(-1);
        float[] a = f(x);
        for (int r = 0, rows = (int) (x.numel() / cols); r < rows; r++) CpuNorms.softmax(a, r * cols, cols);
    }

    @Override
    public void attention(Tensor q, int heads, int headDim, KvView k, KvView v, int kvLen,
                          AttentionMask mask, float scale, Tensor bias, Tensor out) {
        if (q.rank() != 3) throw new IllegalArgumentException("attention query must be [B, S, H·D]: " + q);
        CpuAttention.run(attentionPool(q, heads, headDim, k, kvLen), f(q), heads, headDim, k, f(k.data()), v, f(v.data()), kvLen, mask, scale,
                bias == null ? null : f(bias), f(out), (int) q.dim(0), (int) q.dim(1));
    }

    @Override
    public void writeKv(Tensor src, KvView dst, int start) {
        float[] s = f(src), d = f(dst.data());
        if (src.rank() != 3) throw new IllegalArgumentException("writeKv source must be [B, S, H·D]: " + src);
        int hd = dst.heads() * dst.headDim(), batch = (int) src.dim(0), seq = (int) src.dim(1);
        for (int b = 0; b < batch; b++) {
            for (int p = 0; p < seq; p++) {
                for (int h = 0; h < dst.heads(); h++) {
                    System.arraycopy(s, (b * seq + p) * hd + h * dst.headDim(), d,
                            (int) dst.offset(b, h, start + p), dst.headDim());
                }
            }
        }
    }

    @Override
    public void rope(Tensor x, int heads, int headDim, int rotaryDim, int[] positions, float[] invFreq, boolean interleaved) {
        int rows = (int) (x.numel() / ((long) heads * headDim));
        CpuStepOps.rope(f(x), heads * headDim, heads, headDim, rotaryDim, positions, invFreq, interleaved, rows);
    }

    // ---- step ops: the step's host arrays, rows of any width read in place (see CpuStepOps) ----

    @Override
    public void rope(Tensor x, int heads, int kvHeads, int headDim, int rotaryDim, dev.cortado.backend.Step step,
                     float[] invFreq, boolean interleaved) {
        int cols = (int) x.dim(-1);
        CpuStepOps.rope(f(x), cols, heads + kvHeads, headDim, rotaryDim, step.meta().ropePositions(), invFreq, interleaved,
                (int) (x.numel() / cols));
    }

    @Override
    public void writeKv(Tensor k, int kCol, Tensor v, int vCol, KvView kDst, KvView vDst, dev.cortado.backend.Step step) {
        int batch = step.meta().rows(), seq = step.meta().queries();
        CpuStepOps.writeKv(f(k), (int) k.dim(-1), kCol, kDst, f(kDst.data()), step.attn(false), batch, seq);
        CpuStepOps.writeKv(f(v), (int) v.dim(-1), vCol, vDst, f(vDst.data()), step.attn(false), batch, seq);
    }

    @Override
    public void attention(Tensor q, int heads, int headDim, KvView k, KvView v, dev.cortado.backend.Step step, boolean cross,
                          float scale, Tensor bias, Tensor out) {
        if (q.rank() != 3) throw new IllegalArgumentException("attention query must be [B, S, C]: " + q);
        dev.cortado.backend.StepMetadata.Attn a = step.attn(cross);
        CpuAttention.run(attentionPool(q, heads, headDim, k, a.kvLen()), f(q), (int) q.dim(2), heads, headDim, k, f(k.data()), v, f(v.data()), a.kvLen(), a.mask(),
                scale, bias == null ? null : f(bias), f(out), (int) q.dim(0), (int) q.dim(1));
    }

    /**
     * Encoder self-attention reading keys and values in place from the fused q|k|v rows (no copy into contiguous
     * K/V) when the tiled prefill kernels apply; otherwise the contract's default (copy, then attention).
     */
    @Override
    public void selfAttention(Tensor qkv, int heads, int kvHeads, int headDim, dev.cortado.backend.Step step, float scale,
                              Tensor bias, Tensor out) {
        dev.cortado.backend.StepMetadata.Attn a = step.attn(false);
        int batch = (int) qkv.dim(0), seq = (int) qkv.dim(1), cols = (int) qkv.dim(2);
        if (qkv.rank() != 3 || a.start() != 0 || a.rowStarts() != null || a.kvLen() != seq || a.mask().causal()
                || cols != (heads + 2 * kvHeads) * headDim || !CpuAttention.readsInPlace(headDim, seq)) {
            Backend.super.selfAttention(qkv, heads, kvHeads, headDim, step, scale, bias, out);
            return;
        }
        CpuAttention.runInPlace(tiny(attentionMacs(qkv, (long) heads * headDim, seq)), f(qkv), cols, heads, kvHeads, headDim,
                a.mask(), scale, bias == null ? null : f(bias), f(out), batch, seq);
    }

    /**
     * Bytes of cached keys and values above which an attention runs on the pool however few its multiply-adds: a decode
     * step's cache is cold (the step's weights streamed through the caches since this layer's last read), so its reads
     * are bound by memory latency, not arithmetic — on Zen 4, GPT-2's 12 heads at context 48 (295 KB) took 43-50 µs on
     * one thread and 21-34 µs on two, in decode (where 2 · 48 · 768 multiply-adds alone kept it on one thread).
     */
    static final long PARALLEL_KV_BYTES = Long.getLong("cortado.cpu.parallelKvBytes", 128L << 10);

    /** The pool for attention over a cache: the caller alone when it is tiny in arithmetic and in cache bytes read. */
    private WorkerPool attentionPool(Tensor q, int heads, int headDim, KvView k, int kvLen) {
        long kvBytes = 2L * 4 * q.dim(0) * kvLen * k.heads() * k.headDim();
        boolean cold = kvBytes >= PARALLEL_KV_BYTES && serialBelow != Long.MAX_VALUE;   // MAX_VALUE: all on the caller (tests)
        return cold ? pool : tiny(attentionMacs(q, (long) heads * headDim, kvLen));
    }

    /** Scores and weighted sum: 2 · queries · kvLen · (heads · headDim) multiply-adds ({@code width} = heads · headDim). */
    private static long attentionMacs(Tensor q, long width, int kvLen) {
        return 2L * q.dim(0) * q.dim(1) * kvLen * width;
    }

    // ---- fused ops: the residual add inside the norm, one gate|up projection ----

    @Override
    public void addLayerNorm(Tensor residual, Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out) {
        int d = (int) x.dim(-1);
        float[] r = f(residual), a = f(x), g = f(gamma), b = beta == null ? null : f(beta), o = f(out);
        rows(d, (int) (x.numel() / d), (r0, r1) -> CpuNorms.addLayerNorm(r, a, g, b, eps, o, d, r0, r1));
    }

    @Override
    public void addRmsNorm(Tensor residual, Tensor x, Tensor gamma, float eps, Tensor out) {
        int d = (int) x.dim(-1);
        float[] r = f(residual), a = f(x), g = f(gamma), o = f(out);
        rows(d, (int) (x.numel() / d), (r0, r1) -> CpuNorms.addRmsNorm(r, a, g, eps, o, d, r0, r1));
    }

    @Override
    public void gatedActivate(Tensor gateUp, Activation act, Tensor out) {
        float[] gu = f(gateUp), o = f(out);
        int inter = (int) out.dim(-1), rows = (int) (out.numel() / inter), n = rows * inter;
        float[] u = new float[n];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(gu, 2 * r * inter, o, r * inter, inter);
            System.arraycopy(gu, 2 * r * inter + inter, u, r * inter, inter);
        }
        // the same ops over the same contiguous layout as the separate gate/up path
        CpuActivations.apply(o, 0, n, act);
        CpuElementwise.mul(o, u, n);
    }
}
