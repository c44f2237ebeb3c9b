package dev.cortado.backend.cuda;

import dev.cortado.tensor.Tensor;

/** Linear layers on the CUDA backend: GEMV for decode rows, cuBLASLt or Cortado's GEMM above (see {@link Kernels#linear}). */
final class CudaMatmul {
    private final CudaMemory mem;
    private final CudaWeights weights;
    private final Kernels kernels;

    CudaMatmul(CudaMemory mem, CudaWeights weights, Kernels kernels) {
        this.mem = mem;
        this.weights = weights;
        this.kernels = kernels;
    }

    void linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
        int k = (int) w.dim(0), n = (int) w.dim(1);
        int m = (int) (x.numel() / k);
        if ((long) m * k != x.numel() || out.numel() != (long) m * n) {
            throw new IllegalArgumentException("linear shapes: x " + x + " w " + w + " out " + out);
        }
        CudaWeights.Quant q = weights.quant(w);
        if (q != null) {
            kernels.qgemv(mem.compute, q.bits(), mem.ptr(out), mem.ptr(x), q.values().address(), q.scales().address(),
                    q.offsets() == null ? 0L : q.offsets().address(), mem.ptrOrZero(bias), m, n, k, q.blockSize(), null);
            return;
        }
        kernels.linear(mem.compute, mem.ptr(out), mem.ptr(x), weights.nk(w), mem.ptrOrZero(bias), m, n, k, null);
    }
}
