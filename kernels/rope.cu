// Rotary position embedding, applied in place to q and k.
//
// q: token t, head h starts at q + t * q_stride + h * head_dim (q_stride = n_q_heads * head_dim when contiguous,
//    or the fused QKV row width); k likewise with k_stride and n_kv_heads (k may be null: rotate q only).
// pos[t]: the position of token t (null: t). inv_freq[i], i < rot_dim / 2: the rotary frequencies, computed on the
//    host so every HF rope_scaling variant (default, linear, dynamic, llama3, yarn, longrope) is a host-side table;
//    mscale multiplies cos and sin (yarn's attention_factor; 1 otherwise).
// rot_dim <= head_dim: partial rotary (GPT-NeoX / Phi rotary_pct); dims >= rot_dim pass through.
// interleaved = 0: HF rotate_half (pairs (i, i + rot_dim/2)); 1: GPT-J / Meta interleaved pairs (2i, 2i+1).
// The angle pos * inv_freq[i] is formed in fp32 as HF does and sincosf is the precise one (no fast math).
//
// Launch: grid.x = n_tokens, blockDim 128 (threads loop over heads x pairs).
#include "common.cuh"

using namespace cortado;

namespace {

template <typename T>
CORTADO_DEVICE void rotate(T* x, int i, int half, int interleaved, float c, float s) {
    int a = interleaved ? 2 * i : i;
    int b = interleaved ? 2 * i + 1 : i + half;
    float x0 = to_f(x[a]), x1 = to_f(x[b]);
    x[a] = from_f<T>(x0 * c - x1 * s);
    x[b] = from_f<T>(x1 * c + x0 * s);
}

template <typename T>
CORTADO_DEVICE void rope_impl(T* q, T* k, const int* pos, const float* inv_freq, int n_tokens, int n_q_heads,
                              int n_kv_heads, int head_dim, int rot_dim, long long q_stride, long long k_stride,
                              float mscale, int interleaved) {
    int t = blockIdx.x;
    if (t >= n_tokens) return;
    const int half = rot_dim / 2;
    const float p = (float)(pos ? pos[t] : t);
    const int heads = n_q_heads + (k ? n_kv_heads : 0);
    for (int idx = threadIdx.x; idx < heads * half; idx += blockDim.x) {
        int h = idx / half, i = idx - h * half;
        float s, c;
        sincosf(p * inv_freq[i], &s, &c);
        c *= mscale;
        s *= mscale;
        T* x = h < n_q_heads ? q + t * q_stride + (long long)h * head_dim
                             : k + t * k_stride + (long long)(h - n_q_heads) * head_dim;
        rotate(x, i, half, interleaved, c, s);
    }
}

}  // namespace

#define P_ROPE(T)                                                                                         \
    (T * q, T * k, const int* pos, const float* inv_freq, int n_tokens, int n_q_heads, int n_kv_heads,    \
     int head_dim, int rot_dim, long long q_stride, long long k_stride, float mscale, int interleaved)
CORTADO_EXPORT3(rope, rope_impl, P_ROPE,
                (q, k, pos, inv_freq, n_tokens, n_q_heads, n_kv_heads, head_dim, rot_dim, q_stride, k_stride,
                 mscale, interleaved))
