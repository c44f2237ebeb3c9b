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
        Quant quant;                // a blockwise-quantized linear weight (then rowMajor and nk stay null)

        DeviceWeight(long[] shape) { this.shape = shape; }
    }

    /** QuantizedMatrix's canonical layout on the device: codes [N, K·bits/8], fp32 scales/offsets [N, K / bs]. */
    record Quant(int bits, int blockSize, DeviceMemory values, DeviceMemory scales, DeviceMemory offsets) {}

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

    /**
     * Keeps a quantized weight quantized on the device (codes, scales and offsets uploaded as they are); linear runs
     * the dequantizing GEMV of kernels/qgemv.cu on it ({@link CudaMatmul}), at any batch size.
     */
    Tensor quantizedWeight(dev.cortado.tensor.QuantizedMatrix q) {
        mem.ensureOpen();
        long vb = (long) q.rows() * q.cols() * q.bits() / 8, sb = (long) q.rows() * q.blocksPerRow() * 4;
        DeviceWeight w = new DeviceWeight(new long[] {q.cols(), q.rows()});
        DeviceMemory v = uploadSegment(q.values(), vb), s = null, o = null;
        try {
            s = uploadSegment(q.scales(), sb);
            o = q.offsets() == null ? null : uploadSegment(q.offsets(), sb);
        } catch (RuntimeException e) {
            v.close();
            if (s != null) s.close();
            throw e;
        }
        w.quant = new Quant(q.bits(), q.blockSize(), v, s, o);
        return weightTensor(w);
    }

    /** The device copy of a quantized weight, or null for a float weight. */
    synchronized Quant quant(Tensor t) {
        return weightOf(t).quant;
    }

    private DeviceMemory uploadSegment(java.lang.foreign.MemorySegment src, long bytes) {
        DeviceMemory m = mem.raw(bytes);
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment s = a.allocate(Math.max(1, bytes), 16);
            java.lang.foreign.MemorySegment.copy(src, 0, s, 0, bytes);
            if (bytes > 0) m.copyFrom(s.asSlice(0, bytes));
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }

    /**
     * A tied embedding table [vocab, hidden] read from the vocabulary head's [N, K] copy (the same device memory: the
     * head's [N, K] is the table's row-major layout); null for a quantized head or one not yet in [N, K] form.
     */
    synchronized Tensor tiedEmbedding(Tensor head) {
        DeviceWeight h = weights.get(head.data().address());
        if (h == null || h.quant != null || h.nk == null || h.shape.length != 2) return null;
        DeviceWeight w = new DeviceWeight(new long[] {h.shape[1], h.shape[0]});
        w.rowMajor = h.nk;
        w.rowMajorUsed = true;
        return weightTensor(w);
    }

    /** The [N, K] copy of a 2-D weight whose logical shape is [K, N]. */
    synchronized long nk(Tensor t) {
        DeviceWeight w = weightOf(t);
        if (w.shape.length != 2) throw new IllegalArgumentException("linear weight must be 2-D: " + t);
        if (w.quant != null) throw new IllegalArgumentException("a quantized weight is only read by linear(): " + t);
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
        if (w.quant != null) throw new IllegalArgumentException("a quantized weight is only read by linear(): " + t);
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
