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

    /** residual += x; out = layerNorm(residual): one kernel (add_layernorm); out may alias residual. */
    void addLayerNorm(Tensor residual, Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out) {
        if (residual.numel() != x.numel() || out.numel() != x.numel()) throw new IllegalArgumentException("add+norm shapes: " + residual + " + " + x);
        kernels.addLayernorm(mem.compute, mem.ptr(out), mem.ptr(residual), mem.ptr(x), mem.ptr(gamma), mem.ptrOrZero(beta),
                rows(x), cols(x), eps, null);
    }

    /** residual += x; out = rmsNorm(residual): one kernel (add_rmsnorm); out may alias residual. */
    void addRmsNorm(Tensor residual, Tensor x, Tensor gamma, float eps, Tensor out) {
        if (residual.numel() != x.numel() || out.numel() != x.numel()) throw new IllegalArgumentException("add+norm shapes: " + residual + " + " + x);
        kernels.addRmsnorm(mem.compute, mem.ptr(out), mem.ptr(residual), mem.ptr(x), mem.ptr(gamma), rows(x), cols(x), eps, 0f, null);
    }
}
