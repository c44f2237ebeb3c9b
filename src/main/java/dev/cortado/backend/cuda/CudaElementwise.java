package dev.cortado.backend.cuda;

import static dev.cortado.backend.cuda.CudaMemory.cols;
import static dev.cortado.backend.cuda.CudaMemory.rows;

import dev.cortado.backend.Backend.Activation;
import dev.cortado.tensor.Tensor;

/** Elementwise ops on the CUDA backend: residual add, scale, activations, gated activations, softmax. */
final class CudaElementwise {
    private final CudaMemory mem;
    private final Kernels kernels;

    CudaElementwise(CudaMemory mem, Kernels kernels) {
        this.mem = mem;
        this.kernels = kernels;
    }

    void add(Tensor a, Tensor b, Tensor out) {
        long n = a.numel(), bn = b.numel();
        if (bn == n) {
            kernels.add(mem.compute, mem.ptr(out), mem.ptr(a), mem.ptr(b), n, null);
        } else if (bn > 0 && n % bn == 0) {
            long pa = mem.ptr(a), po = mem.ptr(out);
            if (pa != po) mem.copy(a, 0, out, 0, n * mem.esize);
            kernels.biasAdd(mem.compute, po, mem.ptr(b), n / bn, (int) bn, Kernels.Activation.NONE, null);
        } else {
            throw new IllegalArgumentException("add shapes: " + a + " + " + b);
        }
    }

    void scale(Tensor x, float s) {
        kernels.scale(mem.compute, mem.ptr(x), x.numel(), s, null);
    }

    private static Kernels.Activation act(Activation a) {
        return switch (a) {
            case GELU_ERF -> Kernels.Activation.GELU_ERF;
            case GELU_TANH -> Kernels.Activation.GELU_TANH;
            case RELU -> Kernels.Activation.RELU;
            case SILU -> Kernels.Activation.SILU;
        };
    }

    void activate(Tensor x, Activation a) {
        long p = mem.ptr(x);
        kernels.activation(mem.compute, act(a), p, p, x.numel(), null);
    }

    void gatedActivate(Tensor gate, Tensor up, Activation a) {
        if (gate.numel() != up.numel()) throw new IllegalArgumentException("gated shapes: " + gate + " · " + up);
        long g = mem.ptr(gate);
        kernels.gated(mem.compute, act(a), g, g, mem.ptr(up), rows(gate), cols(gate), cols(gate), null);
    }

    /** One fused [rows, 2·I] gate|up projection (gate first) → out [rows, I], one kernel with a 2·I input stride. */
    void gatedActivate(Tensor gateUp, Activation a, Tensor out) {
        int inter = cols(out);
        if (gateUp.numel() != 2 * out.numel() || gateUp.dim(-1) != 2L * inter) throw new IllegalArgumentException("gated shapes: " + gateUp + " → " + out);
        long g = mem.ptr(gateUp);
        kernels.gated(mem.compute, act(a), mem.ptr(out), g, g + inter * mem.esize, rows(out), inter, 2L * inter, null);
    }

    void softmax(Tensor x) {
        long p = mem.ptr(x);
        kernels.softmax(mem.compute, p, p, rows(x), cols(x), 1f, null);
    }
}
