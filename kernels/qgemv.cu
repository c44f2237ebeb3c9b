// Dequantizing GEMV for batch-1 (and small-batch) decode over blockwise-quantized weights (QuantizedMatrix's
// canonical layout, dev.cortado.tensor.QuantizedMatrix):
//   y[m, n] = sum_k x[m, k] * (scale[n, k / bs] * q[n, k] + offset[n, k / bs]) (+ bias[n]), fp32 accumulation.
// Wq is [N, K] codes row-major: 8-bit signed (qgemv8_*) or 4-bit unsigned, two per byte, element 2i in the low nibble
// of byte i (qgemv4_*). scales/offsets are fp32 [N, K / bs]; offsets may be null.
//
// Bandwidth bound, so each code byte is read once: one warp per output row n, each lane streaming 16-byte chunks of
// codes (16 int8 / 32 int4 codes); per chunk and row of x: dot = sum x*q and sx = sum x, then
// acc += scale*dot + offset*sx (the block-sum form: one multiply per code). The fast path needs bs a multiple of the
// chunk (16 / 32 codes) and 16-byte aligned rows; any other block size takes the per-element path.
//
// Launch: blockDim 256 (8 warps = 8 output rows), grid.x = ceil(N / 8).
#include "common.cuh"

using namespace cortado;

namespace {

constexpr int QG_WARPS = 8;
constexpr int QMB = 4;

template <int BITS>
CORTADO_DEVICE int code_at(const uint8_t* row, int k) {
    if (BITS == 8) return (int)(int8_t)row[k];
    const int b = row[k >> 1];
    return (k & 1) ? (b >> 4) : (b & 15);
}

template <int BITS>
CORTADO_DEVICE void unpack16(const uint4& raw, float* q) {
    const uint8_t* b = reinterpret_cast<const uint8_t*>(&raw);
    if (BITS == 8) {
#pragma unroll
        for (int i = 0; i < 16; i++) q[i] = (float)(int8_t)b[i];
    } else {
#pragma unroll
        for (int i = 0; i < 16; i++) {
            q[2 * i] = (float)(b[i] & 15);
            q[2 * i + 1] = (float)(b[i] >> 4);
        }
    }
}

template <typename T, int BITS>
CORTADO_DEVICE void qgemv_impl(T* y, const T* x, const uint8_t* Wq, const float* scales, const float* offsets,
                               const T* bias, int M, int N, int K, int bs) {
    constexpr int CH = BITS == 8 ? 16 : 32;  // codes per 16-byte chunk
    constexpr int V = Vec<T>::N;             // x elements per 16-byte load
    const int lane = threadIdx.x & 31;
    const int n = blockIdx.x * QG_WARPS + (threadIdx.x >> 5);
    if (n >= N) return;
    const int nb = K / bs;
    const long long rowBytes = (long long)K * BITS / 8;
    const uint8_t* w = Wq + (long long)n * rowBytes;
    const float* sc = scales + (long long)n * nb;
    const float* of = offsets ? offsets + (long long)n * nb : nullptr;
    const bool fast = bs % CH == 0 && K % CH == 0 && aligned16(w) && aligned16(x) && (K % V == 0);
    const float bv = bias ? to_f(bias[n]) : 0.f;

    for (int m0 = 0; m0 < M; m0 += QMB) {
        const int mb = min(QMB, M - m0);
        float acc[QMB] = {0.f, 0.f, 0.f, 0.f};
        if (fast) {
            for (int k = lane * CH; k < K; k += 32 * CH) {
                uint4 raw = __ldg(reinterpret_cast<const uint4*>(w + (long long)k * BITS / 8));
                float q[CH];
                unpack16<BITS>(raw, q);
                const int blk = k / bs;
                const float s = __ldg(sc + blk), o = of ? __ldg(of + blk) : 0.f;
#pragma unroll
                for (int m = 0; m < QMB; m++) {
                    if (m < mb) {
                        const T* xr = x + (long long)(m0 + m) * K + k;
                        float dot = 0.f, sx = 0.f;
#pragma unroll
                        for (int c = 0; c < CH; c += V) {
                            float xv[V];
                            load_vec(xr + c, xv);
#pragma unroll
                            for (int j = 0; j < V; j++) {
                                dot = fmaf(xv[j], q[c + j], dot);
                                sx += xv[j];
                            }
                        }
                        acc[m] = fmaf(s, dot, fmaf(o, sx, acc[m]));
                    }
                }
            }
        } else {
            for (int k = lane; k < K; k += 32) {
                const int blk = k / bs;
                const float wv = sc[blk] * (float)code_at<BITS>(w, k) + (of ? of[blk] : 0.f);
#pragma unroll
                for (int m = 0; m < QMB; m++)
                    if (m < mb) acc[m] = fmaf(wv, to_f(x[(long long)(m0 + m) * K + k]), acc[m]);
            }
        }
#pragma unroll
        for (int m = 0; m < QMB; m++) {
            if (m < mb) {
                float s = warp_sum(acc[m]);
                if (lane == 0) y[(long long)(m0 + m) * N + n] = from_f<T>(s + bv);
            }
        }
    }
}

template <typename T>
CORTADO_DEVICE void qgemv8_impl(T* y, const T* x, const uint8_t* Wq, const float* scales, const float* offsets,
                                const T* bias, int M, int N, int K, int bs) {
    qgemv_impl<T, 8>(y, x, Wq, scales, offsets, bias, M, N, K, bs);
}

template <typename T>
CORTADO_DEVICE void qgemv4_impl(T* y, const T* x, const uint8_t* Wq, const float* scales, const float* offsets,
                                const T* bias, int M, int N, int K, int bs) {
    qgemv_impl<T, 4>(y, x, Wq, scales, offsets, bias, M, N, K, bs);
}

}  // namespace

#define P_QGEMV(T) (T * y, const T* x, const uint8_t* Wq, const float* scales, const float* offsets, const T* bias, \
                    int M, int N, int K, int bs)
CORTADO_EXPORT3_LB(qgemv8, qgemv8_impl, P_QGEMV, (y, x, Wq, scales, offsets, bias, M, N, K, bs), 256)
CORTADO_EXPORT3_LB(qgemv4, qgemv4_impl, P_QGEMV, (y, x, Wq, scales, offsets, bias, M, N, K, bs), 256)
