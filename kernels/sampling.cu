// Token selection on device: argmax (greedy) and top-k / top-p sampling given one uniform random number per row.
// Logits are [rows, vocab]; results are int32 token ids [rows]. Launch: one block per row (grid.x = rows),
// blockDim 1024 (any multiple of 32 works).
//
// argmax_*: first index of the maximum (torch.argmax semantics); NaN is ignored.
//
// sample_*: HF warper semantics without sorting. Temperature and the other processors are separate kernels
// (logits.cu) applied first, in HF order. Per row: top_k (top_ks[row] if top_ks != null, else top_k; <= 0 or
// >= vocab: off) keeps every logit >= the k-th largest (ties at the boundary kept, as HF's `scores < kth` test);
// top_p (top_ps[row] or top_p; >= 1: off) then keeps token x iff the probability mass of tokens strictly above x
// is < top_p (HF's "remove while the ascending cumulative sum <= 1 - top_p", min_tokens_to_keep = 1). Both
// thresholds are found by a bitwise binary search over order-preserving 32-bit keys (32 passes each,
// deterministic block reductions). The token is drawn by inverse CDF in vocabulary order with u = uniforms[row]
// in [0, 1).
//
// Then (per row, 0 / null: off) min-p keeps tokens with exp(x - max) >= min_p (p >= min_p * p_max), and typical-p
// keeps the tokens whose |-log p - entropy| is at most the value where the mass in ascending order reaches
// typical_p (HF's TypicalLogitsWarper, min_tokens_to_keep = 1; a binary search over the shifted values' bits,
// deterministic block sums). With both off, the draw is bit for bit the top-k / top-p draw.
//
// chosen_logprob_*: out[r] = log_softmax(logits[r, :])[ids[r]] (fp32 max and sum of exp; NaN for ids[r] < 0), so a
// step returns one log-probability per row instead of a rows x vocab log-softmax. One block per row.
//
// beam_topk: per group g of `beams` rows of processed log-probabilities lp [rows, vocab] (fp32), the k best
// candidates lp[b, v] + scores[g * beams + b] over beams x vocab, best first, the lower flat index b * vocab + v first
// among equal values (the host reference's order): out_ids[g * k + j] = v, out_src = b, out_scores = the value.
// k rounds of a block arg-max over what ranks after the previous pick (k is 2..3 x beams, small). NaN is skipped.
// One block per group.
#include "common.cuh"

using namespace cortado;

namespace {

CORTADO_DEVICE void argmax_pair(float& v, int& i, float ov, int oi) {
    if (ov > v || (ov == v && oi < i)) {
        v = ov;
        i = oi;
    }
}

template <typename T>
CORTADO_DEVICE void argmax_impl(int* out, const T* logits, int rows, int vocab) {
    __shared__ float sv[32];
    __shared__ int si[32];
    int row = blockIdx.x;
    if (row >= rows) return;
    const T* x = logits + (long long)row * vocab;
    float bv = -INFINITY;
    int bi = vocab;  // "none yet": loses every tie
    for (int c = threadIdx.x; c < vocab; c += blockDim.x) {
        float v = to_f(x[c]);
        if (v == v) argmax_pair(bv, bi, v, c);  // skips NaN
    }
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, bv, o);
        int oi = __shfl_xor_sync(0xffffffffu, bi, o);
        argmax_pair(bv, bi, ov, oi);
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    if (lane == 0) {
        sv[warp] = bv;
        si[warp] = bi;
    }
    __syncthreads();
    if (warp == 0) {
        bv = lane < nwarps ? sv[lane] : -INFINITY;
        bi = lane < nwarps ? si[lane] : vocab;
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            int oi = __shfl_xor_sync(0xffffffffu, bi, o);
            argmax_pair(bv, bi, ov, oi);
        }
        if (lane == 0) out[row] = bi < vocab ? bi : 0;
    }
}

// Inclusive block scan of one float per thread (deterministic order). `warp_tot` needs 32 floats.
CORTADO_DEVICE float block_inclusive_scan(float v, float* warp_tot) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    for (int o = 1; o < 32; o <<= 1) {
        float n = __shfl_up_sync(0xffffffffu, v, o);
        if (lane >= o) v += n;
    }
    if (lane == 31) warp_tot[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float t = lane < nwarps ? warp_tot[lane] : 0.f;
        for (int o = 1; o < 32; o <<= 1) {
            float n = __shfl_up_sync(0xffffffffu, t, o);
            if (lane >= o) t += n;
        }
        warp_tot[lane] = t;  // inclusive over warps
    }
    __syncthreads();
    float r = v + (warp > 0 ? warp_tot[warp - 1] : 0.f);
    __syncthreads();
    return r;
}

template <typename T>
CORTADO_DEVICE void sample_impl(int* out, const T* logits, const float* uniforms, const int* top_ks,
                                const float* top_ps, const float* min_ps, const float* typical_ps, int rows,
                                int vocab, int top_k, float top_p) {
    __shared__ float scratch[33];
    __shared__ float scan_tot[32];
    __shared__ float incl_s[1024];
    __shared__ int chosen, last_thread;
    const int row = blockIdx.x;
    if (row >= rows) return;
    const T* x = logits + (long long)row * vocab;
    const int k = top_ks ? top_ks[row] : top_k;
    const float pp = top_ps ? top_ps[row] : top_p;
    const float u = uniforms[row];

    float m = -INFINITY;
    for (int c = threadIdx.x; c < vocab; c += blockDim.x) m = fmaxf(m, to_f(x[c]));  // fmaxf drops NaN
    m = block_max(m, scratch);

    // Top-k: the largest key t with count(key >= t) >= k is the k-th largest key.
    uint32_t thr = 0;
    if (k > 0 && k < vocab) {
        uint32_t res = 0;
        for (int bit = 31; bit >= 0; bit--) {
            uint32_t cand = res | (1u << bit);
            float cnt = 0.f;
            for (int c = threadIdx.x; c < vocab; c += blockDim.x) {
                float v = to_f(x[c]);
                cnt += (v == v && float_key(v) >= cand) ? 1.f : 0.f;
            }
            if (block_sum(cnt, scratch) >= (float)k) res = cand;  // counts < 2^24 are exact in fp32
        }
        thr = res;
    }
    // Unnormalized probabilities of the kept tokens: exp(x - max) for key >= t; NaN and -inf give 0.
    auto prob = [&](int c, uint32_t t) -> float {
        float v = to_f(x[c]);
        return (v != v || v == -INFINITY || float_key(v) < t) ? 0.f : expf(v - m);
    };
    if (pp < 1.f && m != -INFINITY) {
        if (pp <= 0.f) {
            thr = max(thr, float_key(m));  // keep only the top token(s): min_tokens_to_keep = 1
        } else {
            float z = 0.f;
            for (int c = threadIdx.x; c < vocab; c += blockDim.x) z += prob(c, thr);
            const float target = pp * block_sum(z, scratch);
            // Largest r with mass(key > r) >= target (non-increasing in r); then keep key > r.
            uint32_t res = 0;
            bool any = false;
            for (int bit = 31; bit >= 0; bit--) {
                uint32_t cand = res | (1u << bit);
                float mass = 0.f;
                for (int c = threadIdx.x; c < vocab; c += blockDim.x)
                    if (float_key(to_f(x[c])) > cand) mass += prob(c, thr);
                if (block_sum(mass, scratch) >= target) {
                    res = cand;
                    any = true;
                }
            }
            if (!any) {  // no bit could be set: test r = 0 itself
                float mass = 0.f;
                for (int c = threadIdx.x; c < vocab; c += blockDim.x)
                    if (float_key(to_f(x[c])) > 0u) mass += prob(c, thr);
                any = block_sum(mass, scratch) >= target;
            }
            uint32_t tp = any ? res + 1u : 0u;  // res < 0xffffffff since mass(key > max key) = 0 < target
            if (tp > thr) thr = tp;
        }
    }

    // Min-p (after top-k / top-p, as HF's MinPLogitsWarper): p < min_p · p_max  <=>  exp(x - max) < min_p, a test
    // on the token alone (the max survives top-k / top-p), so it needs no pass of its own.
    const float mp = min_ps ? min_ps[row] : 0.f;
    // Typical-p (HF's TypicalLogitsWarper, after min-p) over the kept set S with p = e / Z, log p = (x - max) - log Z:
    // entropy H = -sum p log p, shifted = |-log p - H|; keep shifted <= s*, s* the smallest shifted value whose
    // mass(shifted <= s*) reaches typical_p (HF: the shifted value where the cumulative mass in ascending shifted
    // order first reaches the mass; everything kept when rounding leaves the total short). Binary search on keys.
    const float tp_mass = typical_ps ? typical_ps[row] : 1.f;
    const bool typical = tp_mass < 1.f && m != -INFINITY;
    float log_z = 0.f, entropy = 0.f;
    uint32_t typical_lim = 0x7f800000u;  // +inf: keeps every finite shifted value
    auto kept = [&](int c) -> float {
        float e = prob(c, thr);
        return (mp > 0.f && e < mp) ? 0.f : e;
    };
    auto shifted = [&](int c) -> float { return fabsf(-((to_f(x[c]) - m) - log_z) - entropy); };
    if (typical) {
        float z = 0.f;
        for (int c = threadIdx.x; c < vocab; c += blockDim.x) z += kept(c);
        z = block_sum(z, scratch);
        log_z = logf(z);
        float h = 0.f;
        for (int c = threadIdx.x; c < vocab; c += blockDim.x) {
            float e = kept(c);
            if (e > 0.f) h -= (e / z) * ((to_f(x[c]) - m) - log_z);
        }
        entropy = block_sum(h, scratch);
        const float target = tp_mass * z;
        uint32_t lo = 0u, hi = 0x7f800000u;
        while (lo < hi) {  // uniform across the block: every thread sees the same sums
            const uint32_t mid = lo + ((hi - lo) >> 1);
            float mass = 0.f;
            for (int c = threadIdx.x; c < vocab; c += blockDim.x) {
                float e = kept(c);
                if (e > 0.f && __float_as_uint(shifted(c)) <= mid) mass += e;
            }
            if (block_sum(mass, scratch) >= target) hi = mid;
            else lo = mid + 1u;
        }
        typical_lim = lo;
    }
    auto final_prob = [&](int c) -> float {
        float e = kept(c);
        return (typical && e > 0.f && __float_as_uint(shifted(c)) > typical_lim) ? 0.f : e;
    };

    // Inverse CDF in index order: thread t owns the contiguous chunk [t * chunk, (t + 1) * chunk) and the interval
    // [incl(t - 1), incl(t)) of the inclusive scan, so the intervals partition [0, total) exactly.
    const int chunk = (vocab + blockDim.x - 1) / blockDim.x;
    const int c0 = min(vocab, (int)threadIdx.x * chunk), c1 = min(vocab, c0 + chunk);
    float local = 0.f;
    int last_kept = -1;
    for (int c = c0; c < c1; c++) {
        float e = final_prob(c);
        if (e > 0.f) last_kept = c;
        local += e;
    }
    if (threadIdx.x == 0) {
        chosen = 0x7fffffff;
        last_thread = -1;
    }
    __syncthreads();
    if (last_kept >= 0) atomicMax(&last_thread, (int)threadIdx.x);
    const float incl = block_inclusive_scan(local, scan_tot);
    incl_s[threadIdx.x] = incl;
    __syncthreads();  // incl_s complete; chosen / last_thread settled
    const float lo = threadIdx.x > 0 ? incl_s[threadIdx.x - 1] : 0.f;
    const float target = u * incl_s[blockDim.x - 1];
    // The last non-empty chunk also takes target >= total (u rounding to 1).
    const bool mine = last_kept >= 0 && ((lo <= target && target < incl) ||
                                         ((int)threadIdx.x == last_thread && target >= incl));
    if (mine) {
        float acc = lo;
        int pick = last_kept;
        for (int c = c0; c < c1; c++) {
            float e = final_prob(c);
            if (e == 0.f) continue;
            acc += e;
            if (acc > target) {
                pick = c;
                break;
            }
        }
        atomicMin(&chosen, pick);
    }
    __syncthreads();
    if (threadIdx.x == 0) out[row] = chosen < vocab ? chosen : 0;  // nothing kept (all -inf / NaN): token 0
}

template <typename T>
CORTADO_DEVICE void chosen_logprob_impl(float* out, const T* logits, const int* ids, int rows, int vocab) {
    __shared__ float scratch[33];
    const int row = blockIdx.x;
    if (row >= rows) return;
    const T* x = logits + (long long)row * vocab;
    float m = -INFINITY;
    for (int c = threadIdx.x; c < vocab; c += blockDim.x) m = fmaxf(m, to_f(x[c]));
    m = block_max(m, scratch);
    float z = 0.f;
    for (int c = threadIdx.x; c < vocab; c += blockDim.x) z += expf(to_f(x[c]) - m);
    z = block_sum(z, scratch);
    if (threadIdx.x == 0) {
        int id = ids[row];
        out[row] = (id < 0 || id >= vocab) ? NAN : to_f(x[id]) - (m + logf(z));
    }
}

// (v, i) ranks before (ov, oi): larger value, then lower index.
CORTADO_DEVICE bool ranks_before(float v, long long i, float ov, long long oi) {
    return v > ov || (v == ov && i < oi);
}

}  // namespace

extern "C" __global__ void __launch_bounds__(1024) beam_topk(int* out_ids, int* out_src, float* out_scores,
                                                           const float* lp, const float* scores, int beams,
                                                           int vocab, int k) {
    __shared__ float sv[32];
    __shared__ long long si[32];
    __shared__ float prev_v;
    __shared__ long long prev_i;
    const int g = blockIdx.x;
    const long long n = (long long)beams * vocab;
    const float* x = lp + (long long)g * n;
    const float* run = scores + (long long)g * beams;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    if (threadIdx.x == 0) {
        prev_v = INFINITY;
        prev_i = -1;
    }
    __syncthreads();
    for (int j = 0; j < k; j++) {
        const float pv = prev_v;
        const long long pi = prev_i;
        float bv = -INFINITY;
        long long bi = n;  // "none yet"
        for (long long e = threadIdx.x; e < n; e += blockDim.x) {
            float v = x[e] + run[e / vocab];
            if (v != v) continue;
            bool after = v < pv || (v == pv && e > pi);
            if (after && (bi == n || ranks_before(v, e, bv, bi))) {
                bv = v;
                bi = e;
            }
        }
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            long long oi = __shfl_xor_sync(0xffffffffu, bi, o);
            if (oi != n && (bi == n || ranks_before(ov, oi, bv, bi))) {
                bv = ov;
                bi = oi;
            }
        }
        if (lane == 0) {
            sv[warp] = bv;
            si[warp] = bi;
        }
        __syncthreads();
        if (warp == 0) {
            bv = lane < nwarps ? sv[lane] : -INFINITY;
            bi = lane < nwarps ? si[lane] : n;
            for (int o = 16; o > 0; o >>= 1) {
                float ov = __shfl_xor_sync(0xffffffffu, bv, o);
                long long oi = __shfl_xor_sync(0xffffffffu, bi, o);
                if (oi != n && (bi == n || ranks_before(ov, oi, bv, bi))) {
                    bv = ov;
                    bi = oi;
                }
            }
            if (lane == 0) {
                const long long at = (long long)g * k + j;
                if (bi == n) {  // fewer than k non-NaN candidates
                    out_ids[at] = -1;
                    out_src[at] = -1;
                    out_scores[at] = NAN;
                } else {
                    out_ids[at] = (int)(bi % vocab);
                    out_src[at] = (int)(bi / vocab);
                    out_scores[at] = bv;
                    prev_v = bv;
                    prev_i = bi;
                }
            }
        }
        __syncthreads();
    }
}

#define P_CHOSEN(T) (float* out, const T* logits, const int* ids, int rows, int vocab)
CORTADO_EXPORT3_LB(chosen_logprob, chosen_logprob_impl, P_CHOSEN, (out, logits, ids, rows, vocab), 1024)

#define P_ARGMAX(T) (int* out, const T* logits, int rows, int vocab)
CORTADO_EXPORT3_LB(argmax, argmax_impl, P_ARGMAX, (out, logits, rows, vocab), 1024)

#define P_SAMPLE(T)                                                                                        \
    (int* out, const T* logits, const float* uniforms, const int* top_ks, const float* top_ps,             \
     const float* min_ps, const float* typical_ps, int rows, int vocab, int top_k, float top_p)
CORTADO_EXPORT3_LB(sample, sample_impl, P_SAMPLE,
                   (out, logits, uniforms, top_ks, top_ps, min_ps, typical_ps, rows, vocab, top_k, top_p), 1024)
