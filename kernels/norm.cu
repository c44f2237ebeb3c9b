// Normalization: RMSNorm (Llama, T5 LayerNorm, Gemma via weight_offset = 1) and LayerNorm (BERT, GPT-2, BART),
// each also fused with the residual add that precedes it (residual += x; out = norm(residual)).
//
// Launch: one block per row (grid.x = rows), blockDim a multiple of 32 up to 1024 (the Java side uses
// clamp(pow2ceil(cols / VEC), 32, 1024)). Statistics are accumulated in fp32; the variance is two-pass.
#include "common.cuh"

using namespace cortado;

namespace {

// Computes h = x (+ add), optionally stores h (rounded to T) into residual, returns nothing; the caller reads back.
// Pass helpers: visit row elements with identical thread->element mapping in every pass so a thread re-reads only
// what it wrote itself (no barrier needed between the write and the re-read).
template <typename T, typename F>
CORTADO_DEVICE void for_row(int cols, bool vec, F f) {
    constexpr int V = Vec<T>::N;
    if (vec) {
        for (int c = threadIdx.x * V; c < cols; c += blockDim.x * V) f(c, V);
    } else {
        for (int c = threadIdx.x; c < cols; c += blockDim.x) f(c, 1);
    }
}

template <typename T>
CORTADO_DEVICE void load_n(const T* p, float* v, int n) {
    if (n == Vec<T>::N) load_vec(p, v);
    else v[0] = to_f(p[0]);
}

template <typename T>
CORTADO_DEVICE void store_n(T* p, const float* v, int n) {
    if (n == Vec<T>::N) store_vec(p, v);
    else p[0] = from_f<T>(v[0]);
}

// residual == nullptr: h = x. Otherwise residual[row] += x[row] (rounded to T) and h = residual.
// out = h * rsqrt(mean(h^2) + eps) * (w + w_offset)
template <typename T>
CORTADO_DEVICE void rmsnorm_impl(T* out, T* residual, const T* x, const T* w, int rows, int cols, float eps,
                                 float w_offset) {
    constexpr int V = Vec<T>::N;
    __shared__ float scratch[33];
    int row = blockIdx.x;
    if (row >= rows) return;
    const long long base = (long long)row * cols;
    const T* xr = x + base;
    T* rr = residual ? residual + base : nullptr;
    T* orow = out + base;
    bool vec = cols % V == 0 && aligned16(x) && aligned16(out) && aligned16(w) && (!residual || aligned16(residual));
    const T* h = rr ? rr : xr;

    float ss = 0.f;
    for_row<T>(cols, vec, [&](int c, int n) {
        float v[V];
        load_n(xr + c, v, n);
        if (rr) {
            float r[V];
            load_n(rr + c, r, n);
            for (int j = 0; j < n; j++) v[j] = to_f(from_f<T>(v[j] + r[j]));  // what the stored T reads back as
            store_n(rr + c, v, n);
        }
        for (int j = 0; j < n; j++) ss += v[j] * v[j];
    });
    float inv = rsqrtf(block_sum(ss, scratch) / cols + eps);
    for_row<T>(cols, vec, [&](int c, int n) {
        float v[V], g[V];
        load_n(h + c, v, n);
        load_n(w + c, g, n);
        for (int j = 0; j < n; j++) v[j] = v[j] * inv * (g[j] + w_offset);
        store_n(orow + c, v, n);
    });
}

// out = (h - mean) * rsqrt(var + eps) * w + b with h as for rmsnorm; w and b may be null (no affine).
template <typename T>
CORTADO_DEVICE void layernorm_impl(T* out, T* residual, const T* x, const T* w, const T* b, int rows, int cols,
                                   float eps) {
    constexpr int V = Vec<T>::N;
    __shared__ float scratch[33];
    int row = blockIdx.x;
    if (row >= rows) return;
    const long long base = (long long)row * cols;
    const T* xr = x + base;
    T* rr = residual ? residual + base : nullptr;
    T* orow = out + base;
    bool vec = cols % V == 0 && aligned16(x) && aligned16(out) && (!w || aligned16(w)) && (!b || aligned16(b)) &&
               (!residual || aligned16(residual));
    const T* h = rr ? rr : xr;

    float s = 0.f;
    for_row<T>(cols, vec, [&](int c, int n) {
        float v[V];
        load_n(xr + c, v, n);
        if (rr) {
            float r[V];
            load_n(rr + c, r, n);
            for (int j = 0; j < n; j++) v[j] = to_f(from_f<T>(v[j] + r[j]));
            store_n(rr + c, v, n);
        }
        for (int j = 0; j < n; j++) s += v[j];
    });
    float mean = block_sum(s, scratch) / cols;
    float sq = 0.f;
    for_row<T>(cols, vec, [&](int c, int n) {
        float v[V];
        load_n(h + c, v, n);
        for (int j = 0; j < n; j++) {
            float d = v[j] - mean;
            sq += d * d;
        }
    });
    float inv = rsqrtf(block_sum(sq, scratch) / cols + eps);
    for_row<T>(cols, vec, [&](int c, int n) {
        float v[V], g[V], bb[V];
        load_n(h + c, v, n);
        if (w) load_n(w + c, g, n);
        if (b) load_n(b + c, bb, n);
        for (int j = 0; j < n; j++) {
            float y = (v[j] - mean) * inv;
            if (w) y *= g[j];
            if (b) y += bb[j];
            v[j] = y;
        }
        store_n(orow + c, v, n);
    });
}

}  // namespace

#define P_RMS(T) (T * out, const T* x, const T* w, int rows, int cols, float eps, float w_offset)
CORTADO_EXPORT3_LB(rmsnorm, rmsnorm_impl, P_RMS, (out, nullptr, x, w, rows, cols, eps, w_offset), 1024)

// residual += x; out = rmsnorm(residual)
#define P_ADD_RMS(T) (T * out, T* residual, const T* x, const T* w, int rows, int cols, float eps, float w_offset)
CORTADO_EXPORT3_LB(add_rmsnorm, rmsnorm_impl, P_ADD_RMS, (out, residual, x, w, rows, cols, eps, w_offset), 1024)

#define P_LN(T) (T * out, const T* x, const T* w, const T* b, int rows, int cols, float eps)
CORTADO_EXPORT3_LB(layernorm, layernorm_impl, P_LN, (out, nullptr, x, w, b, rows, cols, eps), 1024)

// residual += x; out = layernorm(residual)
#define P_ADD_LN(T) (T * out, T* residual, const T* x, const T* w, const T* b, int rows, int cols, float eps)
CORTADO_EXPORT3_LB(add_layernorm, layernorm_impl, P_ADD_LN, (out, residual, x, w, b, rows, cols, eps), 1024)
