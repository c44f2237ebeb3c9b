package dev.cortado.backend.cuda;

import dev.cortado.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;

/**
 * The CUDA backend's weights, converted on the host to the compute type and uploaded once per layout. Linear
 * kernels (GEMV, GEMM, cuBLASLt) read W as [N, K] (nn.Linear layout) while {@link dev.cortado.backend.Backend}
 * stores Linear weights as [in, out]: {@link #weightTransposed} uploads its [out, in] host tensor as is; a 2-D tensor
 * given to {@link #weight} is uploaded row-major (embedding tables need that) and the first {@link #nk} over it makes
 * the [N, K] copy (through the host, once) and frees the row-major copy unless an embedding already read it. A
 * weight tensor's segment address is therefore a <em>key</em> (a reserved, never-mapped range), resolved to the right
 * device copy by every op; it is never passed to a kernel as such.
 */
final class CudaWeights {
    /** Weight keys live above every real device address (48-bit on current GPUs). */
    static final long KEY_BASE = 0x4000_0000_0000_0000L;

    private final CudaMemory mem;
    private final Map<Long, DeviceWeight> weights = new HashMap<>();     // weight key → device copies
    private long nextKey = KEY_BASE;

    /** One uploaded weight: row-major (as given) and/or [N, K] (linear) copies. */
    private static final class DeviceWeight {
        final long[] shape;         // as the layers see it
        DeviceMemory rowMajor;      // shape's row-major layout
        DeviceMemory nk;            // 2-D only: [dim1, dim0] (the transpose of the logical shape)
        boolean rowMajorUsed;

        DeviceWeight(long[] shape) { this.shape = shape; }
    }

    CudaWeights(CudaMemory mem) {
        this.mem = mem;
    }

    private synchronized Tensor weightTensor(DeviceWeight w) {
        long bytes = Tensor.numel(w.shape) * mem.esize;
        long key = nextKey;
        nextKey += Math.max(256, (bytes + 255) & ~255L);
        weights.put(key, w);
        return Tensor.onDevice(mem.compute, w.shape, CudaMemory.range(key, bytes));
    }

    private synchronized DeviceWeight weightOf(Tensor t) {
        DeviceWeight w = weights.get(t.data().address());
        if (w == null) throw new IllegalArgumentException("not a weight of this CUDA backend (use Backend.weight): " + t);
        return w;
    }

    Tensor weight(Tensor host) {
        mem.ensureOpen();
        DeviceWeight w = new DeviceWeight(host.shape());
        w.rowMajor = mem.upload(host.toFloatArray(), mem.compute);
        return weightTensor(w);
    }

    Tensor weightTransposed(Tensor hostOutIn) {
        if (hostOutIn.rank() != 2) throw new IllegalArgumentException("linear weight must be 2-D: " + hostOutIn);
        mem.ensureOpen();
        DeviceWeight w = new DeviceWeight(new long[] {hostOutIn.dim(1), hostOutIn.dim(0)});
        w.nk = mem.upload(hostOutIn.toFloatArray(), mem.compute); // [out, in] is the kernels' [N, K]
        return weightTensor(w);
    }

    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }

    /** The [N, K] copy of a 2-D weight whose logical shape is [K, N]. */
    synchronized long nk(Tensor t) {
        DeviceWeight w = weightOf(t);
        if (w.shape.length != 2) throw new IllegalArgumentException("linear weight must be 2-D: " + t);
        if (w.nk == null) {
            int k = (int) w.shape[0], n = (int) w.shape[1];
            float[] kn = mem.download(w.rowMajor.address(), mem.compute, (long) k * n);
            w.nk = mem.upload(transpose(kn, k, n), mem.compute);
            if (!w.rowMajorUsed) {
                w.rowMajor.close();
                w.rowMajor = null;
            }
        }
        return w.nk.address();
    }

    /** The row-major copy of a weight (embedding tables, norm gains, biases). */
    synchronized long rowMajor(Tensor t) {
        DeviceWeight w = weightOf(t);
        w.rowMajorUsed = true;
        if (w.rowMajor == null) {
            int k = (int) w.shape[0], n = (int) w.shape[1];
            float[] nkHost = mem.download(w.nk.address(), mem.compute, (long) k * n);
            w.rowMajor = mem.upload(transpose(nkHost, n, k), mem.compute);
        }
        return w.rowMajor.address();
    }

    synchronized void close() {
        weights.clear();
    }
}
