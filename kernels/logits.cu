// Logits processors on device, applied in place to logits [rows, vocab] before argmax / sample (HF order:
// repetition penalty, other processors, temperature, then the top-k / top-p warpers inside sample_*).
//
// temperature_*: logits[r, :] /= t with t = temps[r] (temps may be null: temperature); rows with t <= 0 (greedy)
//   or t == 1 are left as they are.
// mark_tokens: seen[r, ids[r * ids_stride + i]] = 1 for i < n (a [rows, vocab] uint8 presence mask kept on device
//   and updated with each generated token, so the penalty needs no per-step host copy; ids < 0 are skipped).
// repetition_penalty_*: for every token with seen[r, v] != 0: logit < 0 ? logit * p : logit / p, p = penalties[r]
//   (may be null: penalty), exactly once per token however often it occurred (HF's gather / scatter semantics).
// suppress_tokens_*: logits[r, ids[i]] = -inf for i < n (same ids for every row: min_new_tokens EOS suppression,
//   bad words of length 1, suppress_tokens).
// repetition_penalty_ids_*: the same penalty for per-row id lists: ids[r * stride + i] for i < n (distinct within a row;
//   -1 pads), p = penalties[r] (rows with p == 1 untouched). No presence mask to keep: the host sends each row's ids.
// ban_tokens_*: logits[r, ids[r * stride + i]] = -inf for i < n (per-row lists, -1 pads): no-repeat n-gram, bad words,
//   min_new_tokens, each row its own.
// logit_bias_*: logits[r, ids[r * stride + i]] += values[r * stride + i] for i < n (per-row lists of distinct ids,
//   -1 pads; the host sums the biases per id in its own order, so the result is its x + bias bit for bit).
// count_penalty_*: OpenAI presence / frequency penalties over per-row (id, count) lists (distinct ids, -1 pads):
//   logit -= presences[r] + frequencies[r] * count, rounded as the host's float expression (no FMA contraction);
//   rows with both knobs 0 untouched.
// Launch: 1-D grid-stride, blockDim 256; logit_bias and count_penalty: one block per row (grid.x = rows).
#include "common.cuh"

using namespace cortado;

namespace {

template <typename T>
CORTADO_DEVICE void temperature_impl(T* logits, const float* temps, int rows, int vocab, float temperature) {
    long long n = (long long)rows * vocab;
    for (long long e = gtid(); e < n; e += gstride()) {
        int r = (int)(e / vocab);
        float t = temps ? temps[r] : temperature;
        if (t > 0.f && t != 1.f) logits[e] = from_f<T>(to_f(logits[e]) / t);
    }
}

template <typename T>
CORTADO_DEVICE void repetition_penalty_impl(T* logits, const unsigned char* seen, const float* penalties, int rows,
                                            int vocab, float penalty) {
    long long n = (long long)rows * vocab;
    for (long long e = gtid(); e < n; e += gstride()) {
        if (!seen[e]) continue;
        int r = (int)(e / vocab);
        float p = penalties ? penalties[r] : penalty;
        float v = to_f(logits[e]);
        logits[e] = from_f<T>(v < 0.f ? v * p : v / p);
    }
}

template <typename T>
CORTADO_DEVICE void suppress_tokens_impl(T* logits, const int* ids, int n, int rows, int vocab) {
    long long total = (long long)rows * n;
    for (long long e = gtid(); e < total; e += gstride()) {
        int r = (int)(e / n);
        int id = ids[e - (long long)r * n];
        if (id >= 0 && id < vocab) logits[(long long)r * vocab + id] = from_f<T>(-INFINITY);
    }
}

template <typename T>
CORTADO_DEVICE void repetition_penalty_ids_impl(T* logits, const int* ids, const float* penalties, int rows, int vocab,
                                                int n, long long stride) {
    long long total = (long long)rows * n;
    for (long long e = gtid(); e < total; e += gstride()) {
        int r = (int)(e / n);
        int id = ids[(long long)r * stride + (e - (long long)r * n)];
        float p = penalties[r];
        if (id < 0 || id >= vocab || p == 1.f) continue;
        long long at = (long long)r * vocab + id;
        float v = to_f(logits[at]);
        logits[at] = from_f<T>(v < 0.f ? v * p : v / p);
    }
}

template <typename T>
CORTADO_DEVICE void ban_tokens_impl(T* logits, const int* ids, int rows, int vocab, int n, long long stride) {
    long long total = (long long)rows * n;
    for (long long e = gtid(); e < total; e += gstride()) {
        int r = (int)(e / n);
        int id = ids[(long long)r * stride + (e - (long long)r * n)];
        if (id >= 0 && id < vocab) logits[(long long)r * vocab + id] = from_f<T>(-INFINITY);
    }
}

template <typename T>
CORTADO_DEVICE void logit_bias_impl(T* logits, const int* ids, const float* values, int rows, int vocab, int n,
                                    long long stride) {
    const int r = blockIdx.x;
    if (r >= rows) return;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const long long at = (long long)r * stride + i;
        const int id = ids[at];
        if (id < 0 || id >= vocab) continue;
        T* l = logits + (long long)r * vocab + id;
        *l = from_f<T>(__fadd_rn(to_f(*l), values[at]));
    }
}

template <typename T>
CORTADO_DEVICE void count_penalty_impl(T* logits, const int* ids, const int* counts, const float* presences,
                                       const float* frequencies, int rows, int vocab, int n, long long stride) {
    const int r = blockIdx.x;
    if (r >= rows) return;
    const float pres = presences[r], freq = frequencies[r];
    if (pres == 0.f && freq == 0.f) return;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const long long at = (long long)r * stride + i;
        const int id = ids[at];
        if (id < 0 || id >= vocab) continue;
        const float d = __fadd_rn(pres, __fmul_rn(freq, (float)counts[at]));
        T* l = logits + (long long)r * vocab + id;
        *l = from_f<T>(__fsub_rn(to_f(*l), d));
    }
}

}  // namespace

#define P_LOGIT_BIAS(T) (T * logits, const int* ids, const float* values, int rows, int vocab, int n, long long stride)
CORTADO_EXPORT3(logit_bias, logit_bias_impl, P_LOGIT_BIAS, (logits, ids, values, rows, vocab, n, stride))

#define P_COUNTS(T)                                                                                         \
    (T * logits, const int* ids, const int* counts, const float* presences, const float* frequencies, int rows, \
     int vocab, int n, long long stride)
CORTADO_EXPORT3(count_penalty, count_penalty_impl, P_COUNTS,
                (logits, ids, counts, presences, frequencies, rows, vocab, n, stride))

#define P_REPIDS(T) (T * logits, const int* ids, const float* penalties, int rows, int vocab, int n, long long stride)
CORTADO_EXPORT3(repetition_penalty_ids, repetition_penalty_ids_impl, P_REPIDS,
                (logits, ids, penalties, rows, vocab, n, stride))

#define P_BAN(T) (T * logits, const int* ids, int rows, int vocab, int n, long long stride)
CORTADO_EXPORT3(ban_tokens, ban_tokens_impl, P_BAN, (logits, ids, rows, vocab, n, stride))

#define P_TEMP(T) (T * logits, const float* temps, int rows, int vocab, float temperature)
CORTADO_EXPORT3(temperature, temperature_impl, P_TEMP, (logits, temps, rows, vocab, temperature))

#define P_REP(T) (T * logits, const unsigned char* seen, const float* penalties, int rows, int vocab, float penalty)
CORTADO_EXPORT3(repetition_penalty, repetition_penalty_impl, P_REP, (logits, seen, penalties, rows, vocab, penalty))

#define P_SUP(T) (T * logits, const int* ids, int n, int rows, int vocab)
CORTADO_EXPORT3(suppress_tokens, suppress_tokens_impl, P_SUP, (logits, ids, n, rows, vocab))

extern "C" __global__ void mark_tokens(unsigned char* seen, const int* ids, int rows, int vocab, int n,
                                       long long ids_stride) {
    long long total = (long long)rows * n;
    for (long long e = gtid(); e < total; e += gstride()) {
        int r = (int)(e / n);
        int id = ids[(long long)r * ids_stride + (e - (long long)r * n)];
        if (id >= 0 && id < vocab) seen[(long long)r * vocab + id] = 1;
    }
}
