package dev.cortado.backend.cuda;

import static dev.cortado.backend.cuda.CudaMemory.cols;
import static dev.cortado.backend.cuda.CudaMemory.rows;

import dev.cortado.tensor.Tensor;

/** Row norms on the CUDA backend (kernels/norm.cu). */
final class CudaNorms {
    private final CudaMemory mem;
    private final Kernels kernels;

    CudaNorms(CudaMemory mem, Kernels kernels) {
        this.mem = mem;
        this.kernels = kernels;
    }

    void layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out) {
        kernels.layernorm(mem.compute, mem.ptr(out), mem.ptr(x), mem.ptr(gamma), mem.ptrOrZero(beta), rows(x), cols(x), eps, null);
    }

    void rmsNorm(Tensor x, Tensor gamma, float eps, Tensor out) {
        kernels.rmsnorm(mem.compute, mem.ptr(out), mem.ptr(x), mem.ptr(gamma), rows(x), cols(x), eps, 0f, null);
    }
}
