package dev.cortado.backend.cuda;

import dev.cortado.CortadoException;
import dev.cortado.tensor.Tensor;

/** Embedding lookups on the CUDA backend (kernels/embedding.cu). */
final class CudaEmbeddings {
    private final CudaMemory mem;
    private final Kernels kernels;

    CudaEmbeddings(CudaMemory mem, Kernels kernels) {
        this.mem = mem;
        this.kernels = kernels;
    }

    void embedding(Tensor table, int[] ids, Tensor out) {
        int rows = (int) table.dim(0), d = (int) table.dim(1);
        for (int id : ids) {
            if (id < 0 || id >= rows) throw new CortadoException("token id " + id + " outside the embedding table (size " + rows + ")");
        }
        if (out.numel() != (long) ids.length * d) throw new IllegalArgumentException("embedding out " + out + " for " + ids.length + " ids of " + d);
        long tab = mem.ptr(table), o = mem.ptr(out);
        try (DeviceMemory idm = mem.uploadInts(ids)) {
            kernels.embedding(mem.compute, o, idm.address(), tab, 0, 0, ids.length, d, rows, 0, 1f, null);
        }
    }

    /** The step's token ids or position rows, read from its device buffer (checked on the host). */
    void embedding(Tensor table, CudaStep step, dev.cortado.backend.Backend.StepIds which, Tensor out) {
        boolean tokens = which == dev.cortado.backend.Backend.StepIds.TOKENS;
        int[] ids = tokens ? step.meta().tokenIds() : step.meta().embedPositions();
        if (ids == null) throw new IllegalArgumentException("this step has no " + which.name().toLowerCase() + " ids");
        int rows = (int) table.dim(0), d = (int) table.dim(1), n = step.meta().rows() * step.meta().queries();
        for (int i = 0; i < n; i++) {
            if (ids[i] < 0 || ids[i] >= rows) throw new CortadoException("token id " + ids[i] + " outside the embedding table (size " + rows + ")");
        }
        if (out.numel() != (long) n * d) throw new IllegalArgumentException("embedding out " + out + " for " + n + " ids of " + d);
        long at = step.at(tokens ? step.plan.tokenIds() : step.plan.embedPositions());
        kernels.embedding(mem.compute, mem.ptr(out), at, mem.ptr(table), 0, 0, n, d, rows, 0, 1f, null);
    }
}
