// KV cache layout shared by the attention kernels (the vLLM flash layout):
//   k_cache, v_cache: [num_blocks, block_size, n_kv_heads, head_dim]
//   block_table: [batch, max_blocks] physical block of each logical block, or null for a contiguous cache where
//   sequence b owns blocks b * max_blocks .. b * max_blocks + max_blocks - 1 (so a plain [batch, max_seq, kvh, d]
//   tensor is block_size = max_seq, max_blocks = 1, block_table = null).
// Token position t of sequence b lives at slot = phys(b, t / block_size) * block_size + t % block_size.
//
// kv_cache_write_*: copies new k/v rows into their slots. k row of token i at k + i * k_stride (k_stride =
// n_kv_heads * head_dim when contiguous, or the fused QKV row width); slots[i] as above (< 0: skip, e.g. padding).
// Launch: grid.x = n_tokens, blockDim 128.
#include "common.cuh"

using namespace cortado;

namespace {

template <typename T>
CORTADO_DEVICE void kv_cache_write_impl(T* k_cache, T* v_cache, const T* k, const T* v, const long long* slots,
                                        int n_tokens, int n_kv_heads, int head_dim, long long k_stride,
                                        long long v_stride) {
    constexpr int V = Vec<T>::N;
    int i = blockIdx.x;
    if (i >= n_tokens) return;
    long long slot = slots[i];
    if (slot < 0) return;
    const int width = n_kv_heads * head_dim;
    const T* ks = k + i * k_stride;
    const T* vs = v + i * v_stride;
    T* kd = k_cache + slot * width;
    T* vd = v_cache + slot * width;
    bool vec = width % V == 0 && k_stride % V == 0 && v_stride % V == 0 && aligned16(k) && aligned16(v) &&
               aligned16(k_cache) && aligned16(v_cache);
    if (vec) {
        for (int c = threadIdx.x * V; c < width; c += blockDim.x * V) {
            *reinterpret_cast<uint4*>(kd + c) = *reinterpret_cast<const uint4*>(ks + c);
            *reinterpret_cast<uint4*>(vd + c) = *reinterpret_cast<const uint4*>(vs + c);
        }
    } else {
        for (int c = threadIdx.x; c < width; c += blockDim.x) {
            kd[c] = ks[c];
            vd[c] = vs[c];
        }
    }
}

}  // namespace

#define P_KVW(T)                                                                                          \
    (T * k_cache, T * v_cache, const T* k, const T* v, const long long* slots, int n_tokens, int n_kv_heads, \
     int head_dim, long long k_stride, long long v_stride)
CORTADO_EXPORT3(kv_cache_write, kv_cache_write_impl, P_KVW,
                (k_cache, v_cache, k, v, slots, n_tokens, n_kv_heads, head_dim, k_stride, v_stride))
