// Shared helpers for Cortado's CUDA kernels: dtype conversion, 16-byte vector loads, warp/block reductions.
//
// Every kernel is a template over the storage type T (float, __half, __nv_bfloat16) and computes in fp32.
// Exported kernels are explicit extern "C" instantiations named <op>_f32 / <op>_f16 / <op>_bf16 so the Java side
// finds them with cuModuleGetFunction by a plain, unmangled name.
//
// The fatbin is compiled WITHOUT --use_fast_math (it would replace erff/expf/tanhf/sincosf and flush denormals,
// breaking parity with PyTorch for GELU-erf, softmax and RoPE at large positions). Kernels that can afford it use
// fast intrinsics explicitly (rsqrtf in norms, __expf only where the argument is <= 0 and bounded).
#pragma once

#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <stdint.h>

#define CORTADO_DEVICE __device__ __forceinline__

namespace cortado {

// ---- scalar conversion -------------------------------------------------------------------------------------
CORTADO_DEVICE float to_f(float x) { return x; }
CORTADO_DEVICE float to_f(__half x) { return __half2float(x); }
CORTADO_DEVICE float to_f(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> CORTADO_DEVICE T from_f(float x);
template <> CORTADO_DEVICE float from_f<float>(float x) { return x; }
template <> CORTADO_DEVICE __half from_f<__half>(float x) { return __float2half_rn(x); }
template <> CORTADO_DEVICE __nv_bfloat16 from_f<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

// ---- 16-byte vectors: VEC<T> elements per uint4 ------------------------------------------------------------
template <typename T> struct Vec { static constexpr int N = 16 / sizeof(T); };

template <typename T>
CORTADO_DEVICE void load_vec(const T* p, float* out) {
    uint4 raw = *reinterpret_cast<const uint4*>(p);
    const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
    for (int i = 0; i < Vec<T>::N; i++) out[i] = to_f(e[i]);
}

// Read-only cache path for data that is not written by the kernel.
template <typename T>
CORTADO_DEVICE void ldg_vec(const T* p, float* out) {
    uint4 raw = __ldg(reinterpret_cast<const uint4*>(p));
    const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
    for (int i = 0; i < Vec<T>::N; i++) out[i] = to_f(e[i]);
}

template <typename T>
CORTADO_DEVICE void store_vec(T* p, const float* in) {
    uint4 raw;
    T* e = reinterpret_cast<T*>(&raw);
#pragma unroll
    for (int i = 0; i < Vec<T>::N; i++) e[i] = from_f<T>(in[i]);
    *reinterpret_cast<uint4*>(p) = raw;
}

// Grid-stride loop helpers for 1-D launches.
CORTADO_DEVICE long long gtid() { return blockIdx.x * (long long)blockDim.x + threadIdx.x; }
CORTADO_DEVICE long long gstride() { return (long long)gridDim.x * blockDim.x; }

CORTADO_DEVICE bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// ---- reductions ----------------------------------------------------------------------------------------------
CORTADO_DEVICE float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

CORTADO_DEVICE float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Block-wide sum / max; every thread gets the result. blockDim.x must be a multiple of 32 (<= 1024).
// `scratch` needs 33 floats of shared memory; the call ends with a barrier so scratch can be reused right after.
CORTADO_DEVICE float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float w = lane < nwarps ? scratch[lane] : 0.f;
        w = warp_sum(w);
        if (lane == 0) scratch[32] = w;
    }
    __syncthreads();
    float r = scratch[32];
    __syncthreads();
    return r;
}

CORTADO_DEVICE float block_max(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = warp_max(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float w = lane < nwarps ? scratch[lane] : -INFINITY;
        w = warp_max(w);
        if (lane == 0) scratch[32] = w;
    }
    __syncthreads();
    float r = scratch[32];
    __syncthreads();
    return r;
}

// Order-preserving map of a float to uint32 (larger float -> larger key; -0 < +0; NaN sorts above +inf).
CORTADO_DEVICE uint32_t float_key(float f) {
    uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

CORTADO_DEVICE float key_float(uint32_t k) {
    uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
    return __uint_as_float(u);
}

}  // namespace cortado

// Explicit extern "C" instantiations: NAME_f32 / NAME_f16 / NAME_bf16 forwarding to a __device__ template.
// PARAMS is a function-like macro of the element type giving the parameter list, ARGS the argument list, e.g.
//   #define P(T) (T* out, const T* in, long long n)
//   CORTADO_EXPORT3(relu, relu_impl, P, (out, in, n))
#define CORTADO_EXPORT3(NAME, IMPL, PARAMS, ARGS)                                                         \
    extern "C" __global__ void NAME##_f32 PARAMS(float) { IMPL<float> ARGS; }                              \
    extern "C" __global__ void NAME##_f16 PARAMS(__half) { IMPL<__half> ARGS; }                            \
    extern "C" __global__ void NAME##_bf16 PARAMS(__nv_bfloat16) { IMPL<__nv_bfloat16> ARGS; }

// Same with __launch_bounds__(MAXT) so the compiler can budget registers for MAXT threads per block.
#define CORTADO_EXPORT3_LB(NAME, IMPL, PARAMS, ARGS, MAXT)                                                \
    extern "C" __global__ void __launch_bounds__(MAXT) NAME##_f32 PARAMS(float) { IMPL<float> ARGS; }      \
    extern "C" __global__ void __launch_bounds__(MAXT) NAME##_f16 PARAMS(__half) { IMPL<__half> ARGS; }    \
    extern "C" __global__ void __launch_bounds__(MAXT) NAME##_bf16 PARAMS(__nv_bfloat16) {                 \
        IMPL<__nv_bfloat16> ARGS;                                                                          \
    }
