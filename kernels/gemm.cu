// Tiled GEMM fallback (used when cuBLASLt is absent): Y[M, N] = X[M, K] . W[N, K]^T (+ bias[N]).
// Both operands are K-contiguous (activations row-major, weights in nn.Linear [out, in] layout); fp32 accumulation.
//
// gemm_*: SIMT, 64x64 output tile per block, BK = 16, 256 threads each computing a 4x4 micro-tile (strided by 16
// so shared-memory reads are broadcast / conflict free). Launch: blockDim 256, grid (ceil(N/64), ceil(M/64)).
// Any M, N, K (bounds checked).
//
// gemm_tc_f16 / gemm_tc_bf16: tensor cores through WMMA (16x16x16 fragments, fp32 accumulate), 64x64 tile per block
// of 4 warps (each warp 32x32 = 2x2 fragments), BK = 32 staged through shared memory as T. Launch: blockDim 128,
// grid (ceil(N/64), ceil(M/64)). Any M, N, K (tiles are zero padded when loaded).
#include "common.cuh"
#include <mma.h>

using namespace cortado;

namespace {

constexpr int BM = 64, BN = 64, BK = 16, PAD = 4;

template <typename T>
CORTADO_DEVICE void gemm_impl(T* Y, const T* X, const T* W, const T* bias, int M, int N, int K) {
    __shared__ float As[BK][BM + PAD];
    __shared__ float Bs[BK][BN + PAD];
    const int tid = threadIdx.x;
    const int tx = tid & 15, ty = tid >> 4;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.f;

    for (int k0 = 0; k0 < K; k0 += BK) {
#pragma unroll
        for (int r = 0; r < 4; r++) {
            int e = tid + 256 * r;  // 0 .. 1023 over a 64 x 16 tile
            int row = e >> 4, k = e & 15;
            int gm = m0 + row, gn = n0 + row, gk = k0 + k;
            As[k][row] = (gm < M && gk < K) ? to_f(X[(long long)gm * K + gk]) : 0.f;
            Bs[k][row] = (gn < N && gk < K) ? to_f(W[(long long)gn * K + gk]) : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = As[k][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++) b[j] = Bs[k][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int gm = m0 + ty + 16 * i;
        if (gm >= M) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int gn = n0 + tx + 16 * j;
            if (gn < N) Y[(long long)gm * N + gn] = from_f<T>(acc[i][j] + (bias ? to_f(bias[gn]) : 0.f));
        }
    }
}

// ---- tensor-core path ----------------------------------------------------------------------------------------
constexpr int TBM = 64, TBN = 64, TBK = 32, TPAD = 8;  // TPAD keeps rows 16-byte aligned and staggers banks

template <typename T>
CORTADO_DEVICE void gemm_tc_impl(T* Y, const T* X, const T* W, const T* bias, int M, int N, int K) {
    using namespace nvcuda;
    __shared__ __align__(32) T As[TBM][TBK + TPAD];
    __shared__ __align__(32) T Bs[TBN][TBK + TPAD];
    __shared__ __align__(32) float Cs[4][16 * 16];  // per-warp staging of one accumulator fragment
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int m0 = blockIdx.y * TBM, n0 = blockIdx.x * TBN;
    const int wm = (warp >> 1) * 32, wn = (warp & 1) * 32;  // warp's 32x32 sub-tile
    constexpr int V = Vec<T>::N;                           // 8 elements per 16-byte vector
    const bool vec = K % V == 0 && aligned16(X) && aligned16(W);

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.f);

    for (int k0 = 0; k0 < K; k0 += TBK) {
        // 64 rows x 32 cols = 256 vectors of 8 per operand; 128 threads load 2 each.
#pragma unroll
        for (int r = 0; r < 2; r++) {
            int e = tid + 128 * r;
            int row = e >> 2, kc = (e & 3) * V;
            int gk = k0 + kc;
            int gm = m0 + row, gn = n0 + row;
            if (vec && gk + V <= K) {
                uint4 za = make_uint4(0, 0, 0, 0), zb = za;
                if (gm < M) za = *reinterpret_cast<const uint4*>(X + (long long)gm * K + gk);
                if (gn < N) zb = __ldg(reinterpret_cast<const uint4*>(W + (long long)gn * K + gk));
                *reinterpret_cast<uint4*>(&As[row][kc]) = za;
                *reinterpret_cast<uint4*>(&Bs[row][kc]) = zb;
            } else {
#pragma unroll
                for (int j = 0; j < V; j++) {
                    bool kin = gk + j < K;
                    As[row][kc + j] = (gm < M && kin) ? X[(long long)gm * K + gk + j] : from_f<T>(0.f);
                    Bs[row][kc + j] = (gn < N && kin) ? W[(long long)gn * K + gk + j] : from_f<T>(0.f);
                }
            }
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < TBK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> b[2];
#pragma unroll
            for (int i = 0; i < 2; i++) wmma::load_matrix_sync(a[i], &As[wm + 16 * i][kk], TBK + TPAD);
            // B(k, n) = W[n, k]: Bs holds [n][k], i.e. column-major B with leading dimension TBK + TPAD.
#pragma unroll
            for (int j = 0; j < 2; j++) wmma::load_matrix_sync(b[j], &Bs[wn + 16 * j][kk], TBK + TPAD);
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
    // Epilogue through shared memory so bias and bounds are applied per element.
#pragma unroll
    for (int i = 0; i < 2; i++) {
#pragma unroll
        for (int j = 0; j < 2; j++) {
            wmma::store_matrix_sync(Cs[warp], acc[i][j], 16, wmma::mem_row_major);
            __syncwarp();
            for (int e = lane; e < 256; e += 32) {
                int gm = m0 + wm + 16 * i + (e >> 4), gn = n0 + wn + 16 * j + (e & 15);
                if (gm < M && gn < N) Y[(long long)gm * N + gn] = from_f<T>(Cs[warp][e] + (bias ? to_f(bias[gn]) : 0.f));
            }
            __syncwarp();
        }
    }
}

}  // namespace

#define P_GEMM(T) (T * Y, const T* X, const T* W, const T* bias, int M, int N, int K)
CORTADO_EXPORT3_LB(gemm, gemm_impl, P_GEMM, (Y, X, W, bias, M, N, K), 256)

extern "C" __global__ void __launch_bounds__(128)
    gemm_tc_f16(__half* Y, const __half* X, const __half* W, const __half* bias, int M, int N, int K) {
    gemm_tc_impl<__half>(Y, X, W, bias, M, N, K);
}
extern "C" __global__ void __launch_bounds__(128) gemm_tc_bf16(__nv_bfloat16* Y, const __nv_bfloat16* X,
                                                                const __nv_bfloat16* W, const __nv_bfloat16* bias,
                                                                int M, int N, int K) {
    gemm_tc_impl<__nv_bfloat16>(Y, X, W, bias, M, N, K);
}
