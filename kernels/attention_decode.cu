// Decode attention (one query token per sequence) over the KV cache (layout: see kv_cache.cu), flash-decoding
// style: the keys of each sequence are split into partitions of `partition_size` tokens; attn_decode_* computes one
// (partition, head, sequence) per block and writes a partial result (unnormalized output, running max, sum);
// attn_decode_reduce_* merges the partials. When the grid has a single partition the first kernel writes the final
// output directly and the reduction is skipped. The grid depends only on the maximum sequence length, never on the
// current lengths, so a decode step can be captured in a CUDA graph and replayed as the sequences grow.
//
// q: head h of sequence b at q + b * q_stride + h * head_dim (after RoPE). out: [batch, n_heads, head_dim].
// GQA: query head h reads kv head h / (n_heads / n_kv_heads).
// Keys j < seq_lens[b] are attended, except where key_mask[b * mask_stride + j] == 0 (padding; key_mask may be
// null). Causality is implicit (the query is the newest token). score = scale * q.k (+ bias[b * bias_b_stride +
// h * bias_h_stride + j] when bias != null: T5 relative position bias, ALiBi); scale = 1 for T5.
// Fully masked rows give zeros.
//
// Requirements (checked on the host): head_dim % VEC == 0 (8 for fp16/bf16, 4 for fp32), head_dim <= 256,
// q, caches 16-byte aligned, q_stride % VEC == 0.
// Launch attn_decode: grid (max_partitions, n_heads, batch), blockDim 128, dynamic shared memory
//   (partition_size + (128 / G) * head_dim) * 4 bytes, G = min(32, pow2ceil(head_dim / VEC)).
// Launch attn_decode_reduce: grid (n_heads, batch), blockDim 128, dynamic shared memory max_partitions * 4 bytes.
#include "common.cuh"

using namespace cortado;

namespace {

constexpr int DEC_THREADS = 128;
constexpr int MAX_HEAD_DIM = 256;

CORTADO_DEVICE int pow2ceil(int x) {
    int p = 1;
    while (p < x) p <<= 1;
    return p;
}

CORTADO_DEVICE long long kv_row(const int* block_table, int b, int t, int block_size, int max_blocks) {
    int blk = t / block_size, off = t - blk * block_size;
    long long phys = block_table ? block_table[(long long)b * max_blocks + blk] : (long long)b * max_blocks + blk;
    return phys * block_size + off;
}

template <typename T>
CORTADO_DEVICE void attn_decode_impl(T* out, float* part_out, float* part_ml, const T* q, const T* k_cache,
                                     const T* v_cache, const int* block_table, const int* seq_lens,
                                     const unsigned char* key_mask, const float* bias, int n_heads, int n_kv_heads,
                                     int head_dim, int block_size, int max_blocks, int partition_size,
                                     long long q_stride, long long mask_stride, long long bias_b_stride,
                                     long long bias_h_stride, float scale) {
    constexpr int V = Vec<T>::N;
    constexpr int MAXI = (MAX_HEAD_DIM / V + 31) / 32;  // vectors per lane at most
    extern __shared__ float smem[];
    __shared__ float scratch[33];
    const int p = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const int P = gridDim.x;
    const int L = seq_lens[b];
    const int start = p * partition_size;
    if (start >= L && !(P == 1 && L <= 0)) return;  // partition beyond this sequence (the reducer ignores it)
    const int end = min(L, start + partition_size);
    const int n = max(end - start, 0);
    const int kvh = h / (n_heads / n_kv_heads);
    const int NV = head_dim / V;
    const int G = min(32, pow2ceil(NV));
    const int groups = DEC_THREADS / G;
    const int g = threadIdx.x / G, gl = threadIdx.x % G;
    float* scores = smem;                 // [partition_size]
    float* red = smem + partition_size;   // [groups][head_dim]
    const long long row_stride = (long long)n_kv_heads * head_dim;

    float qv[MAXI][V];
    const T* qp = q + b * q_stride + (long long)h * head_dim;
#pragma unroll
    for (int i = 0; i < MAXI; i++) {
        int v = gl + G * i;
        if (v < NV) {
            load_vec(qp + v * V, qv[i]);
#pragma unroll
            for (int j = 0; j < V; j++) qv[i][j] *= scale;
        }
    }

    // Phase 1: scores. The loop bound is uniform over the block so every lane joins the group shuffles.
    for (int base = 0; base < n; base += groups) {
        const int i = base + g;
        const bool valid = i < n;
        const int t = start + i;
        float dot = 0.f;
        if (valid) {
            const T* kp = k_cache + kv_row(block_table, b, t, block_size, max_blocks) * row_stride +
                          (long long)kvh * head_dim;
#pragma unroll
            for (int ii = 0; ii < MAXI; ii++) {
                int v = gl + G * ii;
                if (v < NV) {
                    float kv[V];
                    load_vec(kp + v * V, kv);
#pragma unroll
                    for (int j = 0; j < V; j++) dot = fmaf(qv[ii][j], kv[j], dot);
                }
            }
        }
        for (int o = G >> 1; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
        if (valid && gl == 0) {
            bool masked = key_mask && key_mask[b * mask_stride + t] == 0;
            if (bias) dot += bias[b * bias_b_stride + h * bias_h_stride + t];
            scores[i] = masked ? -INFINITY : dot;
        }
    }
    __syncthreads();

    float m = -INFINITY;
    for (int i = threadIdx.x; i < n; i += DEC_THREADS) m = fmaxf(m, scores[i]);
    m = block_max(m, scratch);
    float s = 0.f;
    for (int i = threadIdx.x; i < n; i += DEC_THREADS) {
        float e = (m == -INFINITY || scores[i] == -INFINITY) ? 0.f : expf(scores[i] - m);
        scores[i] = e;
        s += e;
    }
    s = block_sum(s, scratch);  // ends with a barrier: the probabilities in scores[] are visible

    // Phase 2: each group accumulates p * v over its tokens; then the groups are summed through shared memory.
    float acc[MAXI][V];
#pragma unroll
    for (int i = 0; i < MAXI; i++)
#pragma unroll
        for (int j = 0; j < V; j++) acc[i][j] = 0.f;
    for (int i = g; i < n; i += groups) {
        const float pr = scores[i];
        if (pr == 0.f) continue;
        const T* vp = v_cache + kv_row(block_table, b, start + i, block_size, max_blocks) * row_stride +
                      (long long)kvh * head_dim;
#pragma unroll
        for (int ii = 0; ii < MAXI; ii++) {
            int v = gl + G * ii;
            if (v < NV) {
                float vv[V];
                load_vec(vp + v * V, vv);
#pragma unroll
                for (int j = 0; j < V; j++) acc[ii][j] = fmaf(pr, vv[j], acc[ii][j]);
            }
        }
    }
#pragma unroll
    for (int ii = 0; ii < MAXI; ii++) {
        int v = gl + G * ii;
        if (v < NV) {
#pragma unroll
            for (int j = 0; j < V; j++) red[g * head_dim + v * V + j] = acc[ii][j];
        }
    }
    __syncthreads();
    const long long bh = (long long)b * n_heads + h;
    for (int d = threadIdx.x; d < head_dim; d += DEC_THREADS) {
        float o = 0.f;
        for (int gg = 0; gg < groups; gg++) o += red[gg * head_dim + d];
        if (P == 1) {
            out[bh * head_dim + d] = from_f<T>(s > 0.f ? o / s : 0.f);
        } else {
            part_out[(bh * P + p) * head_dim + d] = o;
        }
    }
    if (P > 1 && threadIdx.x == 0) {
        part_ml[(bh * P + p) * 2] = m;
        part_ml[(bh * P + p) * 2 + 1] = s;
    }
}

template <typename T>
CORTADO_DEVICE void attn_decode_reduce_impl(T* out, const float* part_out, const float* part_ml, const int* seq_lens,
                                            int n_heads, int head_dim, int max_partitions, int partition_size) {
    extern __shared__ float w[];  // [max_partitions]
    __shared__ float scratch[33];
    const int h = blockIdx.x, b = blockIdx.y;
    const long long bh = (long long)b * n_heads + h;
    const int L = seq_lens[b];
    const int np = min(max_partitions, max(0, (L + partition_size - 1) / partition_size));
    const float* ml = part_ml + bh * max_partitions * 2;
    float M = -INFINITY;
    for (int p = threadIdx.x; p < np; p += blockDim.x) M = fmaxf(M, ml[2 * p]);
    M = block_max(M, scratch);
    float denom = 0.f;
    for (int p = threadIdx.x; p < np; p += blockDim.x) {
        float mp = ml[2 * p];
        float wp = (M == -INFINITY || mp == -INFINITY) ? 0.f : expf(mp - M);
        w[p] = wp;
        denom += wp * ml[2 * p + 1];
    }
    denom = block_sum(denom, scratch);  // barrier: w[] visible
    const float inv = denom > 0.f ? 1.f / denom : 0.f;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float o = 0.f;
        for (int p = 0; p < np; p++)
            if (w[p] != 0.f) o = fmaf(w[p], part_out[(bh * max_partitions + p) * head_dim + d], o);
        out[bh * head_dim + d] = from_f<T>(o * inv);
    }
}

}  // namespace

#define P_DEC(T)                                                                                          \
    (T * out, float* part_out, float* part_ml, const T* q, const T* k_cache, const T* v_cache,            \
     const int* block_table, const int* seq_lens, const unsigned char* key_mask, const float* bias,       \
     int n_heads, int n_kv_heads, int head_dim, int block_size, int max_blocks, int partition_size,       \
     long long q_stride, long long mask_stride, long long bias_b_stride, long long bias_h_stride, float scale)
CORTADO_EXPORT3_LB(attn_decode, attn_decode_impl, P_DEC,
                   (out, part_out, part_ml, q, k_cache, v_cache, block_table, seq_lens, key_mask, bias, n_heads,
                    n_kv_heads, head_dim, block_size, max_blocks, partition_size, q_stride, mask_stride,
                    bias_b_stride, bias_h_stride, scale),
                   128)

#define P_DEC_RED(T)                                                                                      \
    (T * out, const float* part_out, const float* part_ml, const int* seq_lens, int n_heads, int head_dim, \
     int max_partitions, int partition_size)
CORTADO_EXPORT3_LB(attn_decode_reduce, attn_decode_reduce_impl, P_DEC_RED,
                   (out, part_out, part_ml, seq_lens, n_heads, head_dim, max_partitions, partition_size), 128)
