package dev.cortado.backend.cuda;

import static dev.cortado.backend.cuda.KernelLauncher.args;
import static dev.cortado.backend.cuda.KernelLauncher.rowThreads;
import static dev.cortado.backend.cuda.KernelLauncher.suffix;
import static dev.cortado.backend.cuda.KernelLauncher.vec;

import dev.cortado.tensor.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed launchers for Cortado's kernels (kernels/*.cu): each method checks its arguments, picks the kernel for the
 * storage type ({@code name_f32 / _f16 / _bf16}), computes grid and block, and enqueues it on {@code stream} (null:
 * the legacy default stream). Pointers are device addresses ({@link DeviceMemory#address()}, 0 for "none"); all
 * tensors are row-major and contiguous unless a stride says otherwise. Computation is fp32 inside every kernel.
 *
 * <p>Attention and sampling live in {@link AttentionKernels} and {@link SamplingKernels} ({@link #attention()},
 * {@link #sampling()}).
 */
public final class Kernels {
    /** Activation codes shared with the kernels. */
    public enum Activation {
        NONE(0), RELU(1), GELU_ERF(2), GELU_TANH(3), SILU(4);

        final int code;

        Activation(int code) { this.code = code; }
    }

    private final KernelLauncher launcher;
    private final AttentionKernels attention;
    private final SamplingKernels sampling;

    Kernels(CudaContext ctx) {
        this(new KernelLauncher(ctx));
    }

    Kernels(KernelLauncher launcher) {
        this.launcher = launcher;
        this.attention = new AttentionKernels(launcher);
        this.sampling = new SamplingKernels(launcher);
    }

    public AttentionKernels attention() { return attention; }

    public SamplingKernels sampling() { return sampling; }

    public CudaContext context() { return launcher.context(); }

    // ---- elementwise ---------------------------------------------------------------------------------------------

    /**
     * out[t, :] = table[ids[t], :] * scale (+ posTable[posIds[t], :] when posTable != 0; posIds 0 means t).
     * ids, posIds: int32 [nTokens]; table [vocab, hidden]; posTable [nPos, hidden]; out [nTokens, hidden].
     * Ids out of range give zero rows.
     */
    public void embedding(DType t, long out, long ids, long table, long posIds, long posTable, int nTokens, int hidden,
                          int vocab, int nPos, float scale, CudaStream s) {
        launcher.launch("embedding_" + suffix(t), nTokens, 1, 1, 256, 0, s, args().ptr(out).ptr(ids).ptr(table)
                .ptr(posIds).ptr(posTable).i32(nTokens).i32(hidden).i32(vocab).i32(nPos).f32(scale));
    }

    /** out = a + b over n elements (residual add; out may alias a or b). */
    public void add(DType t, long out, long a, long b, long n, CudaStream s) {
        launcher.launch("add_" + suffix(t), launcher.gridFor(n / vec(t) + 1), 1, 1, 256, 0, s,
                args().ptr(out).ptr(a).ptr(b).i64(n));
    }

    /** x *= factor over n elements, in place. */
    public void scale(DType t, long x, long n, float factor, CudaStream s) {
        launcher.launch("scale_" + suffix(t), launcher.gridFor(n), 1, 1, 256, 0, s, args().ptr(x).i64(n).f32(factor));
    }

    /** x[r, c] = act(x[r, c] + bias[c]) in place; x [rows, cols]. */
    public void biasAdd(DType t, long x, long bias, long rows, int cols, Activation act, CudaStream s) {
        long n = rows * cols;
        launcher.launch("bias_add_" + suffix(t), launcher.gridFor(n / vec(t) + 1), 1, 1, 256, 0, s,
                args().ptr(x).ptr(bias).i64(rows).i32(cols).i32(act.code));
    }

    /** out = act(in) over n elements (RELU, GELU_ERF, GELU_TANH, SILU); out may alias in. */
    public void activation(DType t, Activation act, long out, long in, long n, CudaStream s) {
        String name = switch (act) {
            case RELU -> "relu_";
            case GELU_ERF -> "gelu_erf_";
            case GELU_TANH -> "gelu_tanh_";
            case SILU -> "silu_";
            case NONE -> throw new IllegalArgumentException("activation NONE: nothing to launch");
        };
        launcher.launch(name + suffix(t), launcher.gridFor(n / vec(t) + 1), 1, 1, 256, 0, s,
                args().ptr(out).ptr(in).i64(n));
    }

    /**
     * Gated MLP activation: out[r, c] = act(gate[r * inStride + c]) * up[r * inStride + c], out [rows, cols].
     * SILU is SwiGLU (Llama), GELU_TANH / GELU_ERF are GeGLU (T5 v1.1, Gemma). Separate gate / up tensors:
     * inStride = cols; one fused [rows, 2 * cols] gate_up projection: up = gate + cols * elementSize, inStride = 2 * cols.
     */
    public void gated(DType t, Activation act, long out, long gate, long up, long rows, int cols, long inStride,
                      CudaStream s) {
        String name = switch (act) {
            case SILU -> "silu_mul_";
            case GELU_TANH -> "gelu_tanh_mul_";
            case GELU_ERF -> "gelu_erf_mul_";
            default -> throw new IllegalArgumentException("no gated kernel for " + act);
        };
        launcher.launch(name + suffix(t), launcher.gridFor(rows * cols / vec(t) + 1), 1, 1, 256, 0, s,
                args().ptr(out).ptr(gate).ptr(up).i64(rows).i32(cols).i64(inStride));
    }

    /** SwiGLU: out = silu(gate) * up (see {@link #gated}). */
    public void siluMul(DType t, long out, long gate, long up, long rows, int cols, long inStride, CudaStream s) {
        gated(t, Activation.SILU, out, gate, up, rows, cols, inStride, s);
    }

    /** Converts n elements between f32 and f16 / bf16 (either direction). */
    public void cast(DType from, DType to, long out, long in, long n, CudaStream s) {
        if (from == to) throw new IllegalArgumentException("cast from " + from + " to itself");
        if (from != DType.F32 && to != DType.F32) {
            throw new IllegalArgumentException("casts go through f32: " + from + " -> " + to + " is not a kernel");
        }
        String name = "cast_" + suffix(from) + "_to_" + suffix(to);
        launcher.launch(name, launcher.gridFor(n), 1, 1, 256, 0, s, args().ptr(out).ptr(in).i64(n));
    }

    // ---- normalization -------------------------------------------------------------------------------------------

    /** out = x * rsqrt(mean(x^2) + eps) * (w + wOffset) per row; x, out [rows, cols]; wOffset 1 for Gemma. */
    public void rmsnorm(DType t, long out, long x, long w, int rows, int cols, float eps, float wOffset,
                        CudaStream s) {
        launcher.launch("rmsnorm_" + suffix(t), rows, 1, 1, rowThreads(Math.ceilDiv(cols, vec(t))), 0, s,
                args().ptr(out).ptr(x).ptr(w).i32(rows).i32(cols).f32(eps).f32(wOffset));
    }

    /** residual += x (stored in the storage type), then out = rmsnorm(residual). */
    public void addRmsnorm(DType t, long out, long residual, long x, long w, int rows, int cols, float eps,
                           float wOffset, CudaStream s) {
        launcher.launch("add_rmsnorm_" + suffix(t), rows, 1, 1, rowThreads(Math.ceilDiv(cols, vec(t))), 0, s,
                args().ptr(out).ptr(residual).ptr(x).ptr(w).i32(rows).i32(cols).f32(eps).f32(wOffset));
    }

    /** out = (x - mean) / sqrt(var + eps) * w + b per row (w, b may be 0: no affine). */
    public void layernorm(DType t, long out, long x, long w, long b, int rows, int cols, float eps, CudaStream s) {
        launcher.launch("layernorm_" + suffix(t), rows, 1, 1, rowThreads(Math.ceilDiv(cols, vec(t))), 0, s,
                args().ptr(out).ptr(x).ptr(w).ptr(b).i32(rows).i32(cols).f32(eps));
    }

    /** residual += x, then out = layernorm(residual). */
    public void addLayernorm(DType t, long out, long residual, long x, long w, long b, int rows, int cols, float eps,
                             CudaStream s) {
        launcher.launch("add_layernorm_" + suffix(t), rows, 1, 1, rowThreads(Math.ceilDiv(cols, vec(t))), 0, s,
                args().ptr(out).ptr(residual).ptr(x).ptr(w).ptr(b).i32(rows).i32(cols).f32(eps));
    }

    // ---- rotary, softmax ---------------------------------------------------------------------------------------------

    /**
     * Rotary embedding in place on q (and k unless k == 0). Token t's head h starts at q + (t * qStride + h *
     * headDim) elements. pos: int32 [nTokens] (0: position = t). invFreq: f32 [rotDim / 2] on the device (all HF
     * rope_scaling variants are host-side tables). interleaved: GPT-J pairs (2i, 2i+1) instead of rotate_half.
     */
    public void rope(DType t, long q, long k, long pos, long invFreq, int nTokens, int nQHeads, int nKvHeads,
                     int headDim, int rotDim, long qStride, long kStride, float mscale, boolean interleaved,
                     CudaStream s) {
        if (rotDim <= 0 || rotDim % 2 != 0 || rotDim > headDim) {
            throw new IllegalArgumentException("rotary dim " + rotDim + " must be even and <= head dim " + headDim);
        }
        launcher.launch("rope_" + suffix(t), nTokens, 1, 1, 128, 0, s, args().ptr(q).ptr(k).ptr(pos).ptr(invFreq)
                .i32(nTokens).i32(nQHeads).i32(nKvHeads).i32(headDim).i32(rotDim).i64(qStride).i64(kStride)
                .f32(mscale).i32(interleaved ? 1 : 0));
    }

    /** out = softmax(in * scale) per row; out may alias in. */
    public void softmax(DType t, long out, long in, int rows, int cols, float scale, CudaStream s) {
        launcher.launch("softmax_" + suffix(t), rows, 1, 1, rowThreads(cols), 0, s,
                args().ptr(out).ptr(in).i32(rows).i32(cols).f32(scale));
    }

    /** outF32 = log_softmax(in) per row, in fp32 (logprobs). */
    public void logSoftmax(DType t, long outF32, long in, int rows, int cols, CudaStream s) {
        launcher.launch("log_softmax_" + suffix(t), rows, 1, 1, rowThreads(cols), 0, s,
                args().ptr(outF32).ptr(in).i32(rows).i32(cols));
    }

    // ---- matrix products -------------------------------------------------------------------------------------------

    /** Rows of x up to which {@link #linear} uses GEMV. */
    public static final int GEMV_MAX_ROWS = 8;

    /** y[M, N] = x[M, K] . W[N, K]^T (+ bias[N]) with GEMV (decode; M small). */
    public void gemv(DType t, long y, long x, long w, long bias, int m, int n, int k, CudaStream s) {
        launcher.launch("gemv_" + suffix(t), Math.ceilDiv(n, 8), 1, 1, 256, 0, s,
                args().ptr(y).ptr(x).ptr(w).ptr(bias).i32(m).i32(n).i32(k));
    }

    /**
     * Dequantizing GEMV (kernels/qgemv.cu): y[M, N] = x[M, K] . (scale * q + offset)[N, K]^T (+ bias[N]) over
     * {@link dev.cortado.tensor.QuantizedMatrix}'s layout: {@code bits} 8 (signed codes) or 4 (two per byte, low
     * nibble first), fp32 scales/offsets [N, K / bs] ({@code offsets} 0: none).
     */
    public void qgemv(DType t, int bits, long y, long x, long wq, long scales, long offsets, long bias, int m, int n, int k,
                      int bs, CudaStream s) {
        if (bits != 8 && bits != 4) throw new IllegalArgumentException("qgemv: " + bits + " bits");
        launcher.launch("qgemv" + bits + "_" + suffix(t), Math.ceilDiv(n, 8), 1, 1, 256, 0, s,
                args().ptr(y).ptr(x).ptr(wq).ptr(scales).ptr(offsets).ptr(bias).i32(m).i32(n).i32(k).i32(bs));
    }

    /** y[M, N] = x[M, K] . W[N, K]^T (+ bias[N]) with Cortado's GEMM (tensor cores for f16 / bf16). */
    public void gemm(DType t, long y, long x, long w, long bias, int m, int n, int k, CudaStream s) {
        if (t == DType.F16 || t == DType.BF16) {
            launcher.launch("gemm_tc_" + suffix(t), Math.ceilDiv(n, 64), Math.ceilDiv(m, 64), 1, 128, 0, s,
                    args().ptr(y).ptr(x).ptr(w).ptr(bias).i32(m).i32(n).i32(k));
        } else {
            gemmSimt(t, y, x, w, bias, m, n, k, s);
        }
    }

    /** The SIMT (no tensor core) GEMM, for every type. */
    public void gemmSimt(DType t, long y, long x, long w, long bias, int m, int n, int k, CudaStream s) {
        launcher.launch("gemm_" + suffix(t), Math.ceilDiv(n, 64), Math.ceilDiv(m, 64), 1, 256, 0, s,
                args().ptr(y).ptr(x).ptr(w).ptr(bias).i32(m).i32(n).i32(k));
    }

    /**
     * A linear layer: GEMV for up to {@link #GEMV_MAX_ROWS} rows, above that cuBLASLt when present
     * ({@link CudaContext#blas()}), else Cortado's GEMM.
     */
    public void linear(DType t, long y, long x, long w, long bias, int m, int n, int k, CudaStream s) {
        if (m <= GEMV_MAX_ROWS) {
            gemv(t, y, x, w, bias, m, n, k, s);
            return;
        }
        var blas = launcher.blas();
        if (blas.isPresent()) blas.get().matmul(t, y, x, w, bias, m, n, k, s);
        else gemm(t, y, x, w, bias, m, n, k, s);
    }

    // ---- KV cache ------------------------------------------------------------------------------------------------

    /**
     * Copies new key / value rows into the cache (layout in {@link KvCacheView}): token i's k row at k + i * kStride
     * elements goes to slot slots[i] (int64; block * blockSize + offset; negative: skipped).
     */
    public void kvCacheWrite(DType t, KvCacheView kv, long k, long v, long slots, int nTokens, long kStride,
                             long vStride, CudaStream s) {
        launcher.launch("kv_cache_write_" + suffix(t), nTokens, 1, 1, 128, 0, s, args().ptr(kv.kCache())
                .ptr(kv.vCache()).ptr(k).ptr(v).ptr(slots).i32(nTokens).i32(kv.nKvHeads()).i32(kv.headDim())
                .i64(kStride).i64(vStride));
    }

    /** Every kernel name {@link Kernels}, {@link AttentionKernels} and {@link SamplingKernels} may launch. */
    public static List<String> kernelNames() {
        List<String> names = new ArrayList<>();
        String[] typed = {"embedding", "add", "scale", "bias_add", "relu", "gelu_erf", "gelu_tanh", "silu",
                "silu_mul", "gelu_tanh_mul", "gelu_erf_mul", "rmsnorm", "add_rmsnorm", "layernorm", "add_layernorm",
                "rope", "softmax", "log_softmax", "gemv", "qgemv8", "qgemv4", "gemm", "kv_cache_write", "attn_decode",
                "attn_decode_reduce", "attn_prefill", "t5_bias", "argmax", "sample", "temperature",
                "repetition_penalty", "suppress_tokens", "chosen_logprob", "repetition_penalty_ids", "ban_tokens",
                "logit_bias", "count_penalty"};
        for (String n : typed) for (String sfx : new String[] {"f32", "f16", "bf16"}) names.add(n + "_" + sfx);
        names.addAll(List.of("gemm_tc_f16", "gemm_tc_bf16", "cast_f32_to_f16", "cast_f32_to_bf16", "cast_f16_to_f32",
                "cast_bf16_to_f32", "mark_tokens", "beam_topk"));
        return names;
    }
}
