// Prefill / encoder attention: many query tokens per sequence, flash-attention style (online softmax over key
// tiles, never materializing the score matrix), fp32 SIMT.
//
// q: query i of sequence b, head h at q + (b * Lq + i) * q_stride + h * head_dim (q_stride = n_heads * head_dim,
//    or the fused QKV row width). out: [batch, Lq, n_heads, head_dim] contiguous.
// K/V: the KV cache layout of kv_cache.cu (block_table may be null; a plain [batch, Lk, kvh, d] tensor is
//    block_size = Lk, max_blocks = 1). Sequence b has kv_lens[b] keys; its q_lens[b] queries (q_lens null: Lq) are
//    the newest tokens, so query i sits at position kv_lens[b] - q_lens[b] + i (a cached prefix / chunked prefill
//    just makes kv_lens larger). Query rows i >= q_lens[b] are written as zeros.
// causal != 0: key j is attended only if j <= query position. key_mask[b * mask_stride + j] == 0 masks key j
//    (padding; may be null). bias (may be null): added to the score, at b * bias_b_stride + h * bias_h_stride +
//    i * bias_q_stride + j (T5 relative position bias [1 or B, H, Lq, Lk]). score = scale * q.k (+ bias).
// Fully masked query rows give zeros. GQA: query head h reads kv head h / (n_heads / n_kv_heads).
//
// Launch: grid (ceil(Lq / 8), n_heads, batch), blockDim 256 (8 warps, one query row each), dynamic shared memory
//   (32 * (head_dim + 1) + 32 * head_dim + 8 * head_dim) * 4 bytes (> 48 KiB needs the opt-in attribute; head_dim
//   <= 256).
#include "common.cuh"

using namespace cortado;

namespace {

constexpr int PF_WARPS = 8;
constexpr int KT = 32;  // keys per tile = lanes
constexpr int PF_MAX_D = 256;

template <typename T>
CORTADO_DEVICE void attn_prefill_impl(T* out, const T* q, const T* k_cache, const T* v_cache,
                                      const int* block_table, const int* kv_lens, const int* q_lens,
                                      const unsigned char* key_mask, const float* bias, int Lq, int n_heads,
                                      int n_kv_heads, int head_dim, int block_size, int max_blocks,
                                      long long q_stride, long long mask_stride, long long bias_b_stride,
                                      long long bias_h_stride, long long bias_q_stride, float scale, int causal) {
    constexpr int ND = PF_MAX_D / 32;  // output dims per lane at most
    extern __shared__ float smem[];
    const int D = head_dim;
    float* Ks = smem;                    // [KT][D + 1]
    float* Vs = Ks + KT * (D + 1);       // [KT][D]
    float* Qs = Vs + KT * D;             // [PF_WARPS][D]
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int h = blockIdx.y, b = blockIdx.z;
    const int i = blockIdx.x * PF_WARPS + warp;  // this warp's query row
    const int kv_len = kv_lens[b];
    const int q_len = q_lens ? q_lens[b] : Lq;
    const int q0 = kv_len - q_len;               // position of query row 0
    const bool row_valid = i < q_len && i < Lq;
    const int qpos = q0 + i;
    const int kvh = h / (n_heads / n_kv_heads);
    const long long row_stride = (long long)n_kv_heads * D;

    // Keys this block may need: causal limits them by the last valid query row of the block.
    const int last_row = min(min(q_len, Lq), (int)(blockIdx.x + 1) * PF_WARPS) - 1;
    int kv_end = kv_len;
    if (causal) kv_end = min(kv_end, q0 + last_row + 1);

    float* qs = Qs + warp * D;
    if (row_valid) {
        const T* qp = q + ((long long)b * Lq + i) * q_stride + (long long)h * D;
        for (int d = lane; d < D; d += 32) qs[d] = to_f(qp[d]) * scale;
    }
    float o[ND];
#pragma unroll
    for (int t = 0; t < ND; t++) o[t] = 0.f;
    float m = -INFINITY, l = 0.f;

    for (int j0 = 0; j0 < kv_end; j0 += KT) {
        __syncthreads();  // previous tile fully consumed (and Qs written before the first use)
        for (int e = threadIdx.x; e < KT * D; e += blockDim.x) {
            int jj = e / D, d = e - jj * D;
            int j = j0 + jj;
            float kx = 0.f, vx = 0.f;
            if (j < kv_end) {
                int blk = j / block_size, off = j - blk * block_size;
                long long phys = block_table ? block_table[(long long)b * max_blocks + blk]
                                             : (long long)b * max_blocks + blk;
                long long idx = (phys * block_size + off) * row_stride + (long long)kvh * D + d;
                kx = to_f(k_cache[idx]);
                vx = to_f(v_cache[idx]);
            }
            Ks[jj * (D + 1) + d] = kx;
            Vs[jj * D + d] = vx;
        }
        __syncthreads();
        if (!row_valid) continue;  // warp-uniform; the barriers above are reached by every warp

        // Lane jj scores key j0 + jj.
        const int j = j0 + lane;
        float s = -INFINITY;
        bool ok = j < kv_end && (!causal || j <= qpos) && !(key_mask && key_mask[b * mask_stride + j] == 0);
        if (ok) {
            float acc = 0.f;
            const float* kr = Ks + lane * (D + 1);
            for (int d = 0; d < D; d++) acc = fmaf(qs[d], kr[d], acc);
            if (bias) acc += bias[b * bias_b_stride + h * bias_h_stride + i * bias_q_stride + j];
            s = acc;
        }
        float m_new = fmaxf(m, warp_max(s));
        if (m_new == -INFINITY) continue;  // everything so far masked (warp-uniform)
        float pj = s == -INFINITY ? 0.f : expf(s - m_new);
        float alpha = m == -INFINITY ? 0.f : expf(m - m_new);
        l = l * alpha + warp_sum(pj);
        m = m_new;
#pragma unroll
        for (int t = 0; t < ND; t++) o[t] *= alpha;
        for (int jj = 0; jj < KT; jj++) {
            float p = __shfl_sync(0xffffffffu, pj, jj);
            if (p == 0.f) continue;  // uniform: p is the same value in every lane
            const float* vr = Vs + jj * D;
#pragma unroll
            for (int t = 0; t < ND; t++) {
                int d = lane + 32 * t;
                if (d < D) o[t] = fmaf(p, vr[d], o[t]);
            }
        }
    }
    if (i >= Lq) return;
    T* op = out + (((long long)b * Lq + i) * n_heads + h) * D;
    const float inv = (row_valid && l > 0.f) ? 1.f / l : 0.f;
#pragma unroll
    for (int t = 0; t < ND; t++) {
        int d = lane + 32 * t;
        if (d < D) op[d] = from_f<T>(o[t] * inv);
    }
}

// T5 relative position bias: out[b, h, i, j] = table[bucket(j - (q_off[b] + i)), h] as fp32.
// table: [num_buckets, n_heads] (nn.Embedding(num_buckets, n_heads).weight). q_offsets: position of query 0 per
// sequence (null: 0). Bucketing follows HF T5Attention._relative_position_bucket in fp32.
// Launch: 1-D grid-stride over batch * n_heads * Lq * Lk, blockDim 256.
CORTADO_DEVICE int t5_bucket(int rel, int bidirectional, int num_buckets, int max_distance) {
    int bucket = 0;
    int nb = num_buckets;
    if (bidirectional) {
        nb /= 2;
        if (rel > 0) bucket += nb;
        rel = abs(rel);
    } else {
        rel = -min(rel, 0);
    }
    int max_exact = nb / 2;
    if (rel < max_exact) return bucket + rel;
    // HF: log(rel.float() / max_exact) / math.log(max_distance / max_exact) * (nb - max_exact), in fp32 with the
    // Python-double constant rounded to fp32. The log is taken in double and rounded to fp32 (correctly rounded), as
    // the host's RelativePositionBias.bucket does: logf's up-to-1-ulp error could move a value across a bucket edge.
    const float denom = (float)log((double)max_distance / (double)max_exact);
    float r = (float)log((double)((float)rel / (float)max_exact)) / denom * (float)(nb - max_exact);
    int large = max_exact + (int)r;  // truncation toward zero, as .to(torch.long)
    return bucket + min(large, nb - 1);
}

template <typename T>
CORTADO_DEVICE void t5_bias_impl(float* out, const T* table, const int* q_offsets, int batch, int n_heads, int Lq,
                                 int Lk, int bidirectional, int num_buckets, int max_distance) {
    long long total = (long long)batch * n_heads * Lq * Lk;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total;
         e += (long long)gridDim.x * blockDim.x) {
        int j = (int)(e % Lk);
        long long r = e / Lk;
        int i = (int)(r % Lq);
        r /= Lq;
        int h = (int)(r % n_heads);
        int b = (int)(r / n_heads);
        int qpos = (q_offsets ? q_offsets[b] : 0) + i;
        int bucket = t5_bucket(j - qpos, bidirectional, num_buckets, max_distance);
        out[e] = to_f(table[(long long)bucket * n_heads + h]);
    }
}

}  // namespace

#define P_PF(T)                                                                                           \
    (T * out, const T* q, const T* k_cache, const T* v_cache, const int* block_table, const int* kv_lens,  \
     const int* q_lens, const unsigned char* key_mask, const float* bias, int Lq, int n_heads, int n_kv_heads, \
     int head_dim, int block_size, int max_blocks, long long q_stride, long long mask_stride,              \
     long long bias_b_stride, long long bias_h_stride, long long bias_q_stride, float scale, int causal)
CORTADO_EXPORT3_LB(attn_prefill, attn_prefill_impl, P_PF,
                   (out, q, k_cache, v_cache, block_table, kv_lens, q_lens, key_mask, bias, Lq, n_heads,
                    n_kv_heads, head_dim, block_size, max_blocks, q_stride, mask_stride, bias_b_stride,
                    bias_h_stride, bias_q_stride, scale, causal),
                   256)

#define P_T5(T)                                                                                           \
    (float* out, const T* table, const int* q_offsets, int batch, int n_heads, int Lq, int Lk, int bidirectional, \
     int num_buckets, int max_distance)
CORTADO_EXPORT3(t5_bias, t5_bias_impl, P_T5,
                (out, table, q_offsets, batch, n_heads, Lq, Lk, bidirectional, num_buckets, max_distance))
