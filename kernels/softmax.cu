// Row softmax (out may alias in) and row log-softmax into fp32 (for logprobs).
// Rows whose entries are all -inf (fully masked) give zeros (softmax) / -inf (log-softmax) instead of NaN.
//
// Launch: one block per row (grid.x = rows), blockDim a multiple of 32 up to 1024.
#include "common.cuh"

using namespace cortado;

namespace {

// out[r, :] = softmax(in[r, :] * scale)
template <typename T>
CORTADO_DEVICE void softmax_impl(T* out, const T* in, int rows, int cols, float scale) {
    __shared__ float scratch[33];
    int row = blockIdx.x;
    if (row >= rows) return;
    const T* x = in + (long long)row * cols;
    T* y = out + (long long)row * cols;
    float m = -INFINITY;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, to_f(x[c]) * scale);
    m = block_max(m, scratch);
    if (m == -INFINITY) {
        for (int c = threadIdx.x; c < cols; c += blockDim.x) y[c] = from_f<T>(0.f);
        return;
    }
    float s = 0.f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) s += expf(to_f(x[c]) * scale - m);
    float inv = 1.f / block_sum(s, scratch);
    for (int c = threadIdx.x; c < cols; c += blockDim.x) y[c] = from_f<T>(expf(to_f(x[c]) * scale - m) * inv);
}

// out[r, :] = log_softmax(in[r, :]) in fp32
template <typename T>
CORTADO_DEVICE void log_softmax_impl(float* out, const T* in, int rows, int cols) {
    __shared__ float scratch[33];
    int row = blockIdx.x;
    if (row >= rows) return;
    const T* x = in + (long long)row * cols;
    float* y = out + (long long)row * cols;
    float m = -INFINITY;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, to_f(x[c]));
    m = block_max(m, scratch);
    if (m == -INFINITY) {
        for (int c = threadIdx.x; c < cols; c += blockDim.x) y[c] = -INFINITY;
        return;
    }
    float s = 0.f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) s += expf(to_f(x[c]) - m);
    float lse = m + logf(block_sum(s, scratch));
    for (int c = threadIdx.x; c < cols; c += blockDim.x) y[c] = to_f(x[c]) - lse;
}

}  // namespace

#define P_SOFTMAX(T) (T * out, const T* in, int rows, int cols, float scale)
CORTADO_EXPORT3_LB(softmax, softmax_impl, P_SOFTMAX, (out, in, rows, cols, scale), 1024)

#define P_LOGSOFTMAX(T) (float* out, const T* in, int rows, int cols)
CORTADO_EXPORT3_LB(log_softmax, log_softmax_impl, P_LOGSOFTMAX, (out, in, rows, cols), 1024)
