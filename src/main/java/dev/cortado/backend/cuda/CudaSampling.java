package dev.cortado.backend.cuda;

import static dev.cortado.backend.cuda.CudaMemory.cols;
import static dev.cortado.backend.cuda.CudaMemory.rows;

import dev.cortado.backend.Greedy;
import dev.cortado.tensor.Tensor;

/**
 * Token selection on the CUDA backend (kernels/sampling.cu, softmax.cu): greedy argmax and the chosen token's
 * log-softmax value computed on the device; the host receives rows ids and rows floats instead of rows × vocab logits.
 */
final class CudaSampling {
    private final CudaMemory mem;
    private final Kernels kernels;

    CudaSampling(CudaMemory mem, Kernels kernels) {
        this.mem = mem;
        this.kernels = kernels;
    }

    Greedy greedy(Tensor logits) {
        int rows = rows(logits), vocab = cols(logits);
        long l = mem.ptr(logits);
        try (DeviceMemory ids = mem.raw(4L * rows); DeviceMemory lsm = mem.raw(4L * rows * vocab)) {
            kernels.sampling().argmax(mem.compute, ids.address(), l, rows, vocab, null);
            kernels.logSoftmax(mem.compute, lsm.address(), l, rows, vocab, null);
            int[] id = mem.downloadInts(ids.address(), rows);
            float[] lp = new float[rows];
            for (int r = 0; r < rows; r++) {
                if (id[r] < 0 || id[r] >= vocab) throw new IllegalStateException("argmax kernel returned " + id[r] + " for a vocabulary of " + vocab);
                lp[r] = mem.downloadFloat(lsm.address() + 4L * ((long) r * vocab + id[r]));
            }
            return new Greedy(id, lp);
        }
    }
}
