package dev.cortado.model;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.layers.Linear;
import dev.cortado.layers.Norm;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Tensor;
import dev.cortado.tensor.WeightShapes;
import java.util.Map;

/**
 * Named-weight access with Hugging Face parameter names, filled from safetensors or from a traced ONNX graph.
 * Linear weights are [out, in] (PyTorch) unless listed in {@code inOut} (ONNX MatMul layout [in, out]). Every
 * accessor checks dtype and shape against the dimensions the family expects ({@link TensorCheck}). Linear weights may
 * also be held quantized ({@link #quantized}, from GGUF): {@link #linearWeight} binds those with
 * {@link Backend#quantizedWeight}.
 */
public record WeightNames(Backend be, Map<String, Tensor> tensors, java.util.Set<String> inOut, String source,
                          Map<String, QuantizedMatrix> quantized) {

    public WeightNames(Backend be, Map<String, Tensor> tensors, String source) {
        this(be, tensors, java.util.Set.of(), source);
    }

    public WeightNames(Backend be, Map<String, Tensor> tensors, java.util.Set<String> inOut, String source) {
        this(be, tensors, inOut, source, Map.of());
    }

    /**
     * Float weights plus linear weights held quantized ([out, in], e.g. from GGUF), bound through
     * {@link Backend#quantizedWeight}.
     */
    public static WeightNames withQuantized(Backend be, Map<String, Tensor> tensors, Map<String, QuantizedMatrix> quantized, String source) {
        return new WeightNames(be, tensors, java.util.Set.of(), source, quantized);
    }

    /** Whether {@code name} is present, as a float or a quantized weight. */
    public boolean has(String name) {
        return tensors.containsKey(name) || quantized.containsKey(name);
    }

    /** A matrix of {@code out × in} bound as a backend Linear weight [in, out]. */
    public Tensor linearWeight(String name, long out, long in) {
        Tensor cached = cachedQuantized(name, out, in, false);
        if (cached != null) return cached;
        QuantizedMatrix q = quantized.get(name);
        if (q != null) return be.quantizedWeight(quantizedShape(name, q, out, in));
        Tensor t = need(name);
        if (inOut.contains(name)) return be.linearWeight(TensorCheck.shape(source, name, t, in, out));
        return be.weightTransposed(TensorCheck.shape(source, name, t, out, in));
    }

    /** Whether {@code a} and {@code b} are one quantized matrix (a GGUF embedding that also serves as the lm_head). */
    public boolean sameQuantized(String a, String b) {
        if (quantized instanceof WeightShapes ws && ws.sourceOf(a) != null) return ws.sourceOf(a).equals(ws.sourceOf(b)); // not converted
        QuantizedMatrix q = quantized.get(a);
        return q != null && q == quantized.get(b);
    }

    /** The vocabulary projection {@code out × in} ({@link Backend#headWeight}: stays 16-bit under --quantize). */
    public Tensor headWeight(String name, long out, long in) {
        Tensor cached = cachedQuantized(name, out, in, false);
        if (cached != null) return cached;
        QuantizedMatrix q = quantized.get(name);
        if (q != null) return be.quantizedWeight(quantizedShape(name, q, out, in)); // already quantized in the file
        Tensor t = need(name);
        if (inOut.contains(name)) return be.headWeight(TensorCheck.shape(source, name, t, in, out), true);
        return be.headWeight(TensorCheck.shape(source, name, t, out, in), false);
    }

    /**
     * Rows [from, to) of the {@code out × in} linear weight {@code name} (a fused projection such as GPT-2's c_attn,
     * cut once at load), bound as a backend Linear weight; works for [out, in], [in, out] and quantized storage.
     */
    public Tensor linearWeightRows(String name, int from, int to, long out, long in) {
        long[] shape = quantizedShape(name, out, in);
        Tensor cached = shape == null ? null : be.cachedQuantized(to - from, shape[1], false);
        if (cached != null) return cached;
        QuantizedMatrix q = quantized.get(name);
        if (q != null) {
            quantizedShape(name, q, out, in);
            long rowBytes = (long) q.cols() * q.bits() / 8, rowScales = q.blocksPerRow() * 4L;
            return be.quantizedWeight(new QuantizedMatrix(to - from, q.cols(), q.bits(), q.blockSize(),
                    q.values().asSlice(from * rowBytes, (to - from) * rowBytes), q.scales().asSlice(from * rowScales, (to - from) * rowScales),
                    q.offsets() == null ? null : q.offsets().asSlice(from * rowScales, (to - from) * rowScales), q.int8Activations()));
        }
        Tensor t = need(name);
        if (inOut.contains(name)) return be.linearWeight(Slicing.columns(TensorCheck.shape(source, name, t, in, out), from, to));
        return be.weightTransposed(Slicing.rows(TensorCheck.shape(source, name, t, out, in), from, to));
    }

    /**
     * The weight bound from the backend's pack cache when it holds quantized {@code name} ({@code out × in}) as the load's
     * next weight ({@link Backend#cachedQuantized}), or null; where the weights are converted when read (GGUF), a hit
     * skips the conversion.
     */
    private Tensor cachedQuantized(String name, long out, long in, boolean table) {
        long[] s = quantizedShape(name, out, in);
        return s == null ? null : be.cachedQuantized(s[0], s[1], table);
    }

    /** The [rows, cols] of quantized {@code name} where the map tells it without converting (GGUF), if it is out × in; else null. */
    private long[] quantizedShape(String name, long out, long in) {
        if (!(quantized instanceof WeightShapes ws) || !quantized.containsKey(name)) return null;
        long[] s = ws.shapeOf(name);
        if (s == null || s.length != 2 || out >= 0 && s[0] != out || in >= 0 && s[1] != in) return null;
        return s;
    }

    private QuantizedMatrix quantizedShape(String name, QuantizedMatrix q, long out, long in) {
        if ((out >= 0 && q.rows() != out) || (in >= 0 && q.cols() != in)) {
            throw new CortadoException(source + ": tensor '" + name + "' has shape [" + q.rows() + ", " + q.cols() + "], expected ["
                    + (out < 0 ? "*" : out) + ", " + (in < 0 ? "*" : in) + "]");
        }
        return q;
    }

    public Tensor need(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new CortadoException(source + " has no tensor '" + name + "'");
        return t;
    }

    /** A float tensor of exactly {@code shape}. */
    public Tensor need(String name, long... shape) {
        return TensorCheck.shape(source, name, need(name), shape);
    }

    /**
     * The shape of weight {@code name} (float or quantized), checked like {@link #need(String, long...)}, without
     * converting it where the weights are converted when read (GGUF: {@link WeightShapes}), so a family can check an
     * embedding table first and read it only where it binds it.
     */
    public long[] dims(String name, long... expected) {
        long[] s = tensors instanceof WeightShapes ws ? ws.shapeOf(name) : null;
        if (s == null && quantized instanceof WeightShapes ws) s = ws.shapeOf(name);
        if (s == null) return need(name, expected).shape();
        return TensorCheck.dims(source, name, s, expected);
    }

    /**
     * The embedding table {@code name} bound for lookups: held quantized where the file has it quantized and the backend
     * can ({@link Backend#quantizedTable}; an untied GGUF token_embd), else bound as floats with {@link Backend#weight}.
     */
    public Tensor table(String name) {
        Tensor cached = cachedQuantized(name, -1, -1, true);
        if (cached != null) return cached;
        QuantizedMatrix q = quantized.get(name);
        Tensor t = q == null ? null : be.quantizedTable(q);
        return t != null ? t : be.weight(need(name));
    }

    public Tensor opt(String name) {
        return tensors.get(name);
    }

    /** prefix.weight [out, in] and optional prefix.bias [out]. */
    /** A 2-D weight's row count (a feed-forward width config.json leaves out), or 1 when absent or implausible. */
    public int rowsOf(String name) {
        Tensor t = opt(name);
        return t == null || t.rank() != 2 || t.dim(0) > ConfigCheck.MAX_DIM ? 1 : (int) t.dim(0);
    }

    /** BART-style multi-head attention: {@code prefix}.q_proj/k_proj/v_proj/out_proj, d → d, scaled by head_dim^-0.5. */
    public dev.cortado.layers.Attention mhaProjections(String prefix, int heads, int d) {
        int hd = d / heads;
        return new dev.cortado.layers.Attention(linear(prefix + ".q_proj", d, d), linear(prefix + ".k_proj", d, d),
                linear(prefix + ".v_proj", d, d), linear(prefix + ".out_proj", d, d), heads, heads, hd, (float) Math.pow(hd, -0.5), null);
    }

    /** BART-style self-attention with q|k|v concatenated at load into one projection (one GEMM). */
    public dev.cortado.layers.Attention fusedMhaProjections(String prefix, int heads, int d) {
        int hd = d / heads;
        Linear qkv = fusedLinear(d, prefix + ".q_proj", d, prefix + ".k_proj", d, prefix + ".v_proj", d);
        if (qkv == null) return mhaProjections(prefix, heads, d);
        return dev.cortado.layers.Attention.fused(qkv, linear(prefix + ".out_proj", d, d), heads, heads, hd, (float) Math.pow(hd, -0.5), null);
    }

    /** BART-style cross-attention with k|v concatenated at load (one GEMM over the encoder output). */
    public dev.cortado.layers.Attention fusedCrossProjections(String prefix, int heads, int d) {
        int hd = d / heads;
        Linear kv = fusedLinear(d, prefix + ".k_proj", d, prefix + ".v_proj", d);
        if (kv == null) return mhaProjections(prefix, heads, d);
        return dev.cortado.layers.Attention.crossFused(linear(prefix + ".q_proj", d, d), kv, linear(prefix + ".out_proj", d, d),
                heads, heads, hd, (float) Math.pow(hd, -0.5));
    }

    /**
     * Projections reading the same input (q|k|v, gate|up), given as prefix, out, prefix, out, …, concatenated at load
     * into one Linear [in, Σ out] (output columns in the order given; missing biases are zeros). Null when the parts
     * come in different layouts (some [in, out], some [out, in]) or a part is not a float tensor here (a weight held
     * quantized elsewhere): the caller then binds them separately.
     */
    public Linear fusedLinear(long in, Object... prefixAndOut) {
        int n = prefixAndOut.length / 2;
        if (!stackableLayouts(prefixAndOut)) return null;   // quantized parts that cannot be stacked: not converted to find out
        Linear cached = cachedFusedQuantized(in, prefixAndOut);
        if (cached != null) return cached;
        java.util.List<Tensor> ws = new java.util.ArrayList<>();
        long[] outs = new long[n];
        QuantizedMatrix[] qs = new QuantizedMatrix[n];
        int quantizedCount = 0;
        for (int i = 0; i < n; i++) {
            String name = prefixAndOut[2 * i] + ".weight";
            QuantizedMatrix q = quantized.get(name);
            if (q == null) continue;
            qs[i] = quantizedShape(name, q, ((Number) prefixAndOut[2 * i + 1]).longValue(), in);
            quantizedCount++;
        }
        if (quantizedCount == n) {
            // quantized rows are row-major per output feature: stacked when bits and block size agree
            if (!Fusion.stackable(qs)) return null;
            for (int i = 0; i < n; i++) outs[i] = qs[i].rows();
            return new Linear(Fusion.bindQuantized(be, qs), fusedBias(outs, prefixAndOut));
        }
        if (quantizedCount != 0) return null;
        int inOutCount = 0;
        for (int i = 0; i < n; i++) {
            String prefix = (String) prefixAndOut[2 * i], name = prefix + ".weight";
            if (!tensors.containsKey(name)) return null;   // absent or not float: the separate path reports or binds it
            long out = ((Number) prefixAndOut[2 * i + 1]).longValue();
            boolean io = inOut.contains(name);
            Tensor t = io ? TensorCheck.shape(source, name, need(name), in, out) : TensorCheck.shape(source, name, need(name), out, in);
            outs[i] = io ? t.dim(1) : t.dim(0);
            if (io) inOutCount++;
            ws.add(t);
        }
        if (inOutCount != 0 && inOutCount != n) return null;
        return new Linear(Fusion.bind(be, ws, inOutCount == n), fusedBias(outs, prefixAndOut));
    }

    /** The parts' biases (each checked against its output count; a missing one is zeros) stacked and bound, or null when none has one. */
    private Tensor fusedBias(long[] outs, Object... prefixAndOut) {
        java.util.List<Tensor> bs = new java.util.ArrayList<>();
        for (int i = 0; i < outs.length; i++) {
            String name = prefixAndOut[2 * i] + ".bias";
            Tensor b = tensors.get(name);
            bs.add(b == null ? null : TensorCheck.vector(source, name, b, outs[i]));
        }
        Tensor bias = Fusion.concatBiases(bs, outs);
        return bias == null ? null : be.weight(bias);
    }

    /**
     * False when the parts are quantized weights whose layouts (bits, block size), known without converting them (GGUF),
     * differ: {@link Fusion#stackable} would refuse them (e.g. a Q4_K_M file's Q4_K q/k and Q6_K v projections).
     */
    private boolean stackableLayouts(Object... prefixAndOut) {
        if (!(quantized instanceof WeightShapes ws)) return true;
        String first = null;
        for (int i = 0; i < prefixAndOut.length / 2; i++) {
            String layout = ws.layoutOf(prefixAndOut[2 * i] + ".weight");
            if (layout == null) return true;
            if (first == null) first = layout;
            else if (!first.equals(layout)) return false;
        }
        return true;
    }

    /** {@link #fusedLinear}'s quantized parts stacked, from the backend's pack cache without converting them (GGUF); or null. */
    private Linear cachedFusedQuantized(long in, Object... prefixAndOut) {
        int n = prefixAndOut.length / 2;
        long rows = 0;
        long[] outs = new long[n];
        for (int i = 0; i < n; i++) {
            long[] s = quantizedShape(prefixAndOut[2 * i] + ".weight", ((Number) prefixAndOut[2 * i + 1]).longValue(), in);
            if (s == null) return null;
            outs[i] = s[0];
            rows += s[0];
        }
        Tensor w = be.cachedQuantized(rows, in, false);
        return w == null ? null : new Linear(w, fusedBias(outs, prefixAndOut));
    }

    public Linear linear(String prefix, long out, long in) {
        Tensor b = tensors.get(prefix + ".bias");
        return new Linear(linearWeight(prefix + ".weight", out, in),
                b == null ? null : be.weight(TensorCheck.vector(source, prefix + ".bias", b, out)));
    }

    /** prefix.weight [n] and optional prefix.bias [n]. */
    public Norm layerNorm(String prefix, float eps, long n) {
        Tensor b = tensors.get(prefix + ".bias");
        return new Norm(Norm.Kind.LAYER, be.weight(vector(prefix + ".weight", n)),
                b == null ? null : be.weight(TensorCheck.vector(source, prefix + ".bias", b, n)), eps);
    }

    public Norm rmsNorm(String name, float eps, long n) {
        return new Norm(Norm.Kind.RMS, be.weight(vector(name, n)), null, eps);
    }

    /** A float vector of {@code n} elements. */
    public Tensor vector(String name, long n) {
        return TensorCheck.vector(source, name, need(name), n);
    }
}
