// GEMV for batch-1 (and small-batch) decode: y[m, n] = sum_k x[m, k] * W[n, k] (+ bias[n]), fp32 accumulation.
//
// W is [N, K] row-major (the nn.Linear layout), x is [M, K], y is [M, N]; intended for M <= 8 (it stays correct
// for any M; larger M should use gemm). Decode is bandwidth bound, so every weight byte is read exactly once:
// one warp per output row n, each lane streaming 16-byte vectors of W (8 halves / 4 floats) and applying each
// loaded vector to up to MB = 4 rows of x at a time.
//
// Launch: blockDim 256 (8 warps = 8 output rows), grid.x = ceil(N / 8).
#include "common.cuh"

using namespace cortado;

namespace {

constexpr int GEMV_WARPS = 8;
constexpr int MB = 4;

template <typename T>
CORTADO_DEVICE void gemv_impl(T* y, const T* x, const T* W, const T* bias, int M, int N, int K) {
    constexpr int V = Vec<T>::N;
    const int lane = threadIdx.x & 31;
    const int n = blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5);
    if (n >= N) return;
    const T* w = W + (long long)n * K;
    const bool vec = K % V == 0 && aligned16(W) && aligned16(x);
    const float b = bias ? to_f(bias[n]) : 0.f;

    for (int m0 = 0; m0 < M; m0 += MB) {
        const int mb = min(MB, M - m0);
        float acc[MB] = {0.f, 0.f, 0.f, 0.f};
        if (vec) {
#pragma unroll 4
            for (int k = lane * V; k < K; k += 32 * V) {
                float wv[V];
                ldg_vec(w + k, wv);
#pragma unroll
                for (int m = 0; m < MB; m++) {
                    if (m < mb) {
                        float xv[V];
                        load_vec(x + (long long)(m0 + m) * K + k, xv);
#pragma unroll
                        for (int j = 0; j < V; j++) acc[m] = fmaf(wv[j], xv[j], acc[m]);
                    }
                }
            }
        } else {
            for (int k = lane; k < K; k += 32) {
                float wv = to_f(w[k]);
#pragma unroll
                for (int m = 0; m < MB; m++)
                    if (m < mb) acc[m] = fmaf(wv, to_f(x[(long long)(m0 + m) * K + k]), acc[m]);
            }
        }
#pragma unroll
        for (int m = 0; m < MB; m++) {
            if (m < mb) {
                float s = warp_sum(acc[m]);
                if (lane == 0) y[(long long)(m0 + m) * N + n] = from_f<T>(s + b);
            }
        }
    }
}

}  // namespace

#define P_GEMV(T) (T * y, const T* x, const T* W, const T* bias, int M, int N, int K)
CORTADO_EXPORT3_LB(gemv, gemv_impl, P_GEMV, (y, x, W, bias, M, N, K), 256)
