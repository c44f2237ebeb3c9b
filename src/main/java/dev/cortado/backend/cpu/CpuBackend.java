package dev.cortado.backend.cpu;

import dev.cortado.CortadoException;
import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * The CPU backend: Java Vector API kernels over heap arrays, one shared {@link WorkerPool} (scalar twins when the
 * Vector API is not in the boot layer: {@link Simd}). Activations are
 * float32 heap tensors; weights are float32, or bfloat16 kept as 16-bit and widened in-register (float16 is
 * converted to float32 once at load, since the Vector API has no half-float widening on this JDK).
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
        if (linearDtype != DType.F32 && linearDtype != DType.BF16) {
            throw new CortadoException("the CPU backend stores linear weights as f32 or bf16, not " + linearDtype);
        }
        this.pool = pool;
        this.linearDtype = linearDtype;
        Simd.warnOnce();
    }

    private final DType linearDtype;

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

    static float[] f(Tensor t) {
        MemorySegment s = t.data();
        if (t.dtype() == DType.F32 && s.heapBase().orElse(null) instanceof float[] a && s.address() == 0) return a;
        throw new IllegalArgumentException("not a CPU float32 tensor: " + t);
    }

    private static Object w(Tensor t) {
        Object base = t.data().heapBase().orElse(null);
        if ((base instanceof float[] || base instanceof short[]) && t.data().address() == 0) return base;
        throw new IllegalArgumentException("not a CPU weight (use Backend.weight): " + t);
    }

    @Override
    public float[] toHost(Tensor t) {
        return t.toFloatArray();
    }

    @Override
    public void copy(Tensor src, long srcOffsetBytes, Tensor dst, long dstOffsetBytes, long bytes) {
        MemorySegment.copy(src.data(), srcOffsetBytes, dst.data(), dstOffsetBytes, bytes);
    }

    @Override
    public Tensor fromHost(float[] data, long... shape) {
        return new Tensor(DType.F32, shape, MemorySegment.ofArray(data));
    }

    @Override
    public Tensor weight(Tensor host) {
        long n = host.numel();
        if (n > Integer.MAX_VALUE - 8) throw new CortadoException("weight too large for the CPU backend: " + host);
        if (host.dtype() == DType.BF16) {
            short[] a = new short[(int) n];
            MemorySegment.copy(host.data(), Tensor.I16_LE, 0, a, 0, a.length);
            return new Tensor(DType.BF16, host.shape(), MemorySegment.ofArray(a));
        }
        return new Tensor(DType.F32, host.shape(), MemorySegment.ofArray(host.toFloatArray()));
    }

    /**
     * Packed linear weights by array identity, alive as long as this backend (one per model); a weight that did not
     * come from linearWeight is packed on its first linear() and cached here.
     */
    private final java.util.Map<Object, PackedMatmul.Packed> packed = java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());

    @Override
    public Tensor linearWeight(Tensor host) {
        if (host.rank() != 2) throw new IllegalArgumentException("linear weight must be 2-D: " + host);
        Tensor plain = weight(host);
        if (linearDtype == DType.BF16 && plain.dtype() == DType.F32) plain = toBf16(plain);
        PackedMatmul.Packed p = pack(plain);
        MemorySegment seg = p.data() instanceof float[] f ? MemorySegment.ofArray(f) : MemorySegment.ofArray((short[]) p.data());
        packed.put(p.data(), p);
        // shape [in, out], but the memory holds column panels (opaque: read it only through linear())
        return new Tensor(plain.dtype(), host.shape(), seg);
    }

    private static PackedMatmul.Packed pack(Tensor plain) {
        int k = (int) plain.dim(0), n = (int) plain.dim(1);
        Object base = plain.data().heapBase().orElseThrow();
        if (!Simd.VECTOR) return base instanceof float[] f ? ScalarPackedMatmul.pack(f, k, n) : ScalarPackedMatmul.packBf16((short[]) base, k, n);
        return base instanceof float[] f ? PackedMatmul.pack(f, k, n) : PackedMatmul.packBf16((short[]) base, k, n);
    }

    private PackedMatmul.Packed packedOf(Tensor w) {
        Object base = w.data().heapBase().orElse(null);
        PackedMatmul.Packed p = base == null ? null : packed.get(base);
        if (p != null) return p;
        p = pack(w);
        packed.put(base, p);   // an unpacked weight passed to linear(): packed once, cached by identity
        return p;
    }

    @Override
    public Tensor weightTransposed(Tensor host) {
        if (host.rank() != 2) throw new IllegalArgumentException("linear weight must be 2-D: " + host);
        int out = (int) host.dim(0), in = (int) host.dim(1);
        float[] src = host.toFloatArray(), dst = new float[src.length];
        for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) dst[i * out + o] = src[o * in + i];
        Tensor t = new Tensor(DType.F32, new long[] {in, out}, MemorySegment.ofArray(dst));
        return linearWeight(host.dtype() == DType.BF16 ? toBf16(t) : t);
    }

    private static Tensor toBf16(Tensor f32) {
        float[] a = f(f32);
        short[] s = new short[a.length];
        for (int i = 0; i < a.length; i++) {
            int bits = Float.floatToRawIntBits(a[i]);
            // round to nearest even (NaN stays NaN)
            s[i] = Float.isNaN(a[i]) ? (short) ((bits >>> 16) | 0x40) : (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
        }
        return new Tensor(DType.BF16, f32.shape(), MemorySegment.ofArray(s));
    }

    @Override
    public Tensor int8Weight(dev.cortado.tensor.Int8Matrix w) {
        return Int8Weights.bind(w);
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
        Int8Weights.Packed q = Int8Weights.of(w);
        if (q != null) {
            if (x.numel() % q.k() != 0 || out.numel() != x.numel() / q.k() * q.n()) throw new IllegalArgumentException("linear shapes: x " + x + " w " + w + " out " + out);
            Int8Weights.linear(f(x), q, bias == null ? null : f(bias), f(out), (int) (x.numel() / q.k()), pool);
            return;
        }
        PackedMatmul.Packed p = packedOf(w);
        int k = p.k(), n = p.n();
        int m = (int) (x.numel() / k);
        if ((long) m * k != x.numel() || out.numel() != (long) m * n) {
            throw new IllegalArgumentException("linear shapes: x " + x + " w " + w + " out " + out);
        }
        if (!Simd.VECTOR) ScalarPackedMatmul.matmul(f(x), p, bias == null ? null : f(bias), f(out), m, pool);
        else PackedMatmul.matmul(f(x), p, bias == null ? null : f(bias), f(out), m, pool);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        float[] x = f(a), y = f(b), z = f(out);
        int n = (int) a.numel(), bn = (int) b.numel();
        if (bn == n) {
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
        CpuNorms.layerNorm(f(x), f(gamma), beta == null ? null : f(beta), eps, f(out), (int) x.dim(-1), (int) (x.numel() / x.dim(-1)));
    }

    @Override
    public void rmsNorm(Tensor x, Tensor gamma, float eps, Tensor out) {
        CpuNorms.rmsNorm(f(x), f(gamma), eps, f(out), (int) x.dim(-1), (int) (x.numel() / x.dim(-1)));
    }

    @Override
    public void activate(Tensor x, Activation act) {
        float[] a = f(x);
        int n = (int) x.numel();
        int threads = n >= 1 << 14 ? pool.threads() : 1;
        pool.parallelFor(threads, (t0, t1) ->
                CpuActivations.apply(a, (int) ((long) n * t0 / threads), (int) ((long) n * t1 / threads), act));
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
        Object w = w(table);
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (id < 0 || id >= rows) throw new CortadoException("token id " + id + " outside the embedding table (size " + rows + ")");
            if (w instanceof float[] fw) System.arraycopy(fw, id * d, o, i * d, d);
            else for (int j = 0; j < d; j++) o[i * d + j] = CpuElementwise.bf16(((short[]) w)[id * d + j]);
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
        CpuAttention.run(pool, f(q), heads, headDim, k, f(k.data()), v, f(v.data()), kvLen, mask, scale,
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
        float[] a = f(x);
        int rows = (int) (x.numel() / ((long) heads * headDim));
        int half = rotaryDim / 2;
        float[] cos = new float[half], sin = new float[half];
        for (int r = 0; r < rows; r++) {
            int pos = positions[r];
            for (int i = 0; i < half; i++) {
                double ang = (float) pos * invFreq[i]; // float32 product, as PyTorch computes the angles
                cos[i] = (float) Math.cos(ang);
                sin[i] = (float) Math.sin(ang);
            }
            for (int h = 0; h < heads; h++) {
                int o = (r * heads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    int i1 = interleaved ? o + 2 * i : o + i, i2 = interleaved ? i1 + 1 : o + i + half;
                    float x1 = a[i1], x2 = a[i2];
                    a[i1] = x1 * cos[i] - x2 * sin[i];
                    a[i2] = x2 * cos[i] + x1 * sin[i];
                }
            }
        }
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
        CpuAttention.run(pool, f(q), (int) q.dim(2), heads, headDim, k, f(k.data()), v, f(v.data()), a.kvLen(), a.mask(),
                scale, bias == null ? null : f(bias), f(out), (int) q.dim(0), (int) q.dim(1));
    }

    // ---- fused ops: the residual add inside the norm, one gate|up projection ----

    @Override
    public void addLayerNorm(Tensor residual, Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out) {
        int d = (int) x.dim(-1);
        CpuNorms.addLayerNorm(f(residual), f(x), f(gamma), beta == null ? null : f(beta), eps, f(out), d, (int) (x.numel() / d));
    }

    @Override
    public void addRmsNorm(Tensor residual, Tensor x, Tensor gamma, float eps, Tensor out) {
        int d = (int) x.dim(-1);
        CpuNorms.addRmsNorm(f(residual), f(x), f(gamma), eps, f(out), d, (int) (x.numel() / d));
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
