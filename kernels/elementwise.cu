// Elementwise kernels: embedding gather, residual add, bias add (+ fused activation), activations
// (ReLU, GELU erf/tanh, SiLU), gated activations (SwiGLU = silu_mul, GeGLU), scaling and dtype casts.
//
// Launch: 1-D grid-stride loops, blockDim 256, any grid size (the Java side uses ceil(n / (256 * VEC)) capped at
// 65535). Paths with 16-byte vector loads are taken when pointers are 16-byte aligned and the row length is a
// multiple of the vector width; otherwise a scalar loop gives the same results.
#include "common.cuh"

using namespace cortado;

namespace {

enum Act { ACT_NONE = 0, ACT_RELU = 1, ACT_GELU_ERF = 2, ACT_GELU_TANH = 3, ACT_SILU = 4 };

CORTADO_DEVICE float gelu_erf(float x) { return 0.5f * x * (1.f + erff(x * 0.70710678118654752440f)); }

// PyTorch's approximate='tanh' / HF gelu_new / gelu_pytorch_tanh, same operation order.
CORTADO_DEVICE float gelu_tanh(float x) {
    const float kBeta = 0.79788456080286535588f;  // sqrt(2/pi)
    const float kKappa = 0.044715f;
    float inner = kBeta * (x + kKappa * x * x * x);
    return 0.5f * x * (1.f + tanhf(inner));
}

CORTADO_DEVICE float silu(float x) { return x / (1.f + expf(-x)); }

CORTADO_DEVICE float apply_act(float x, int act) {
    switch (act) {
        case ACT_RELU: return fmaxf(x, 0.f);
        case ACT_GELU_ERF: return gelu_erf(x);
        case ACT_GELU_TANH: return gelu_tanh(x);
        case ACT_SILU: return silu(x);
        default: return x;
    }
}

// out = act(in); out may alias in.
template <typename T>
CORTADO_DEVICE void act_impl(T* out, const T* in, long long n, int act) {
    constexpr int V = Vec<T>::N;
    long long start = 0;
    if (aligned16(out) && aligned16(in)) {
        long long nv = n / V;
        for (long long i = gtid(); i < nv; i += gstride()) {
            float v[V];
            load_vec(in + i * V, v);
#pragma unroll
            for (int j = 0; j < V; j++) v[j] = apply_act(v[j], act);
            store_vec(out + i * V, v);
        }
        start = nv * V;
    }
    for (long long i = start + gtid(); i < n; i += gstride()) out[i] = from_f<T>(apply_act(to_f(in[i]), act));
}

// out = a + b (residual add); out may alias a or b.
template <typename T>
CORTADO_DEVICE void add_impl(T* out, const T* a, const T* b, long long n) {
    constexpr int V = Vec<T>::N;
    long long start = 0;
    if (aligned16(out) && aligned16(a) && aligned16(b)) {
        long long nv = n / V;
        for (long long i = gtid(); i < nv; i += gstride()) {
            float x[V], y[V];
            load_vec(a + i * V, x);
            load_vec(b + i * V, y);
#pragma unroll
            for (int j = 0; j < V; j++) x[j] += y[j];
            store_vec(out + i * V, x);
        }
        start = nv * V;
    }
    for (long long i = start + gtid(); i < n; i += gstride()) out[i] = from_f<T>(to_f(a[i]) + to_f(b[i]));
}

// x = x * s (in place), e.g. embedding scaling or logits temperature for a whole tensor.
template <typename T>
CORTADO_DEVICE void scale_impl(T* x, long long n, float s) {
    for (long long i = gtid(); i < n; i += gstride()) x[i] = from_f<T>(to_f(x[i]) * s);
}

// x[r, c] = act(x[r, c] + bias[c]) in place, x is [rows, cols].
template <typename T>
CORTADO_DEVICE void bias_add_impl(T* x, const T* bias, long long rows, int cols, int act) {
    constexpr int V = Vec<T>::N;
    long long n = rows * cols;
    if (cols % V == 0 && aligned16(x) && aligned16(bias)) {
        long long nv = n / V;
        for (long long i = gtid(); i < nv; i += gstride()) {
            long long e = i * V;
            int c = (int)(e % cols);
            float v[V], b[V];
            load_vec(x + e, v);
            ldg_vec(bias + c, b);
#pragma unroll
            for (int j = 0; j < V; j++) v[j] = apply_act(v[j] + b[j], act);
            store_vec(x + e, v);
        }
        return;
    }
    for (long long i = gtid(); i < n; i += gstride()) {
        int c = (int)(i % cols);
        x[i] = from_f<T>(apply_act(to_f(x[i]) + to_f(bias[c]), act));
    }
}

// out[r, c] = act(gate[r * in_stride + c]) * up[r * in_stride + c]; out is [rows, cols] contiguous.
// Separate gate/up tensors: in_stride = cols. One fused [rows, 2*cols] projection: up = gate + cols,
// in_stride = 2*cols (gate first, as in HF's gate_up_proj).
template <typename T>
CORTADO_DEVICE void gated_impl(T* out, const T* gate, const T* up, long long rows, int cols, long long in_stride,
                               int act) {
    constexpr int V = Vec<T>::N;
    long long n = rows * cols;
    if (cols % V == 0 && in_stride % V == 0 && aligned16(out) && aligned16(gate) && aligned16(up)) {
        long long nv = n / V;
        for (long long i = gtid(); i < nv; i += gstride()) {
            long long e = i * V;
            long long r = e / cols;
            int c = (int)(e - r * cols);
            float g[V], u[V];
            load_vec(gate + r * in_stride + c, g);
            load_vec(up + r * in_stride + c, u);
#pragma unroll
            for (int j = 0; j < V; j++) g[j] = apply_act(g[j], act) * u[j];
            store_vec(out + e, g);
        }
        return;
    }
    for (long long i = gtid(); i < n; i += gstride()) {
        long long r = i / cols;
        int c = (int)(i - r * cols);
        float g = to_f(gate[r * in_stride + c]), u = to_f(up[r * in_stride + c]);
        out[i] = from_f<T>(apply_act(g, act) * u);
    }
}

// out[t, :] = table[ids[t], :] * scale (+ pos_table[pos_ids[t], :] when pos_table != null).
// One block per token (grid.x = n_tokens). Ids outside [0, vocab) / [0, n_pos) read as zero rows.
template <typename T>
CORTADO_DEVICE void embedding_impl(T* out, const int* ids, const T* table, const int* pos_ids, const T* pos_table,
                                   int n_tokens, int hidden, int vocab, int n_pos, float scale) {
    constexpr int V = Vec<T>::N;
    int t = blockIdx.x;
    if (t >= n_tokens) return;
    int id = ids[t];
    bool ok = id >= 0 && id < vocab;
    int pid = pos_table ? (pos_ids ? pos_ids[t] : t) : 0;
    bool pok = pos_table && pid >= 0 && pid < n_pos;
    const T* row = table + (long long)(ok ? id : 0) * hidden;
    const T* prow = pos_table ? pos_table + (long long)(pok ? pid : 0) * hidden : nullptr;
    T* dst = out + (long long)t * hidden;
    if (hidden % V == 0 && aligned16(table) && aligned16(out) && (!pos_table || aligned16(pos_table))) {
        for (int c = threadIdx.x * V; c < hidden; c += blockDim.x * V) {
            float v[V], p[V];
            ldg_vec(row + c, v);
            if (pok) ldg_vec(prow + c, p);
#pragma unroll
            for (int j = 0; j < V; j++) v[j] = (ok ? v[j] * scale : 0.f) + (pok ? p[j] : 0.f);
            store_vec(dst + c, v);
        }
        return;
    }
    for (int c = threadIdx.x; c < hidden; c += blockDim.x) {
        float v = ok ? to_f(row[c]) * scale : 0.f;
        if (pok) v += to_f(prow[c]);
        dst[c] = from_f<T>(v);
    }
}

template <typename S, typename D>
__device__ void cast_impl(D* out, const S* in, long long n) {
    for (long long i = gtid(); i < n; i += gstride()) out[i] = from_f<D>(to_f(in[i]));
}

}  // namespace

#define P_ACT(T) (T * out, const T* in, long long n)
CORTADO_EXPORT3(relu, act_impl, P_ACT, (out, in, n, ACT_RELU))
CORTADO_EXPORT3(gelu_erf, act_impl, P_ACT, (out, in, n, ACT_GELU_ERF))
CORTADO_EXPORT3(gelu_tanh, act_impl, P_ACT, (out, in, n, ACT_GELU_TANH))
CORTADO_EXPORT3(silu, act_impl, P_ACT, (out, in, n, ACT_SILU))

#define P_ADD(T) (T * out, const T* a, const T* b, long long n)
CORTADO_EXPORT3(add, add_impl, P_ADD, (out, a, b, n))

#define P_SCALE(T) (T * x, long long n, float s)
CORTADO_EXPORT3(scale, scale_impl, P_SCALE, (x, n, s))

// act: 0 none, 1 relu, 2 gelu_erf, 3 gelu_tanh, 4 silu
#define P_BIAS(T) (T * x, const T* bias, long long rows, int cols, int act)
CORTADO_EXPORT3(bias_add, bias_add_impl, P_BIAS, (x, bias, rows, cols, act))

#define P_GATED(T) (T * out, const T* gate, const T* up, long long rows, int cols, long long in_stride)
CORTADO_EXPORT3(silu_mul, gated_impl, P_GATED, (out, gate, up, rows, cols, in_stride, ACT_SILU))
CORTADO_EXPORT3(gelu_tanh_mul, gated_impl, P_GATED, (out, gate, up, rows, cols, in_stride, ACT_GELU_TANH))
CORTADO_EXPORT3(gelu_erf_mul, gated_impl, P_GATED, (out, gate, up, rows, cols, in_stride, ACT_GELU_ERF))

#define P_EMB(T)                                                                                          \
    (T * out, const int* ids, const T* table, const int* pos_ids, const T* pos_table, int n_tokens, int hidden, \
     int vocab, int n_pos, float scale)
CORTADO_EXPORT3(embedding, embedding_impl, P_EMB,
                (out, ids, table, pos_ids, pos_table, n_tokens, hidden, vocab, n_pos, scale))

// Casts between storage types (weights uploaded in fp32 and converted on device, fp16 logits read back as fp32).
extern "C" __global__ void cast_f32_to_f16(__half* out, const float* in, long long n) { cast_impl(out, in, n); }
extern "C" __global__ void cast_f32_to_bf16(__nv_bfloat16* out, const float* in, long long n) {
    cast_impl(out, in, n);
}
extern "C" __global__ void cast_f16_to_f32(float* out, const __half* in, long long n) { cast_impl(out, in, n); }
extern "C" __global__ void cast_bf16_to_f32(float* out, const __nv_bfloat16* in, long long n) {
    cast_impl(out, in, n);
}
