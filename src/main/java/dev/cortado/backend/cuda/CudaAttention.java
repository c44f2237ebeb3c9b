package dev.cortado.backend.cuda;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.KvView;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * Attention, KV-cache writes and rotary embeddings on the CUDA backend (kernels/attention_*.cu, kv_cache.cu,
 * rope.cu). The CPU and CUDA backends share the paged pool layout {@code [blocks, blockSize, kvHeads, headDim]}
 * ({@link KvView#paged}); projection outputs {@code [B, S, H·D]} ({@link KvView#ofRows}) are the same layout with
 * blockSize = S and one block per row. Head-major views ({@link KvView#ofCache}) are refused.
 */
final class CudaAttention {
    private final CudaMemory mem;
    private final Kernels kernels;
    private final IdentityHashMap<float[], DeviceMemory> invFreqs = new IdentityHashMap<>();

    CudaAttention(CudaMemory mem, Kernels kernels) {
        this.mem = mem;
        this.kernels = kernels;
    }

    /** The device copy of a rotary inverse-frequency table, uploaded on first use (tables are per model). */
    private synchronized long invFreq(float[] invFreq) {
        DeviceMemory m = invFreqs.get(invFreq);
        if (m == null) invFreqs.put(invFreq, m = mem.upload(invFreq, DType.F32));
        return m.address();
    }

    void rope(Tensor x, int heads, int headDim, int rotaryDim, int[] positions, float[] invFreq, boolean interleaved) {
        int tokens = (int) (x.numel() / ((long) heads * headDim));
        if (positions.length < tokens) throw new IllegalArgumentException("rope: " + positions.length + " positions for " + tokens + " tokens");
        long inv = invFreq(invFreq);
        long p = mem.ptr(x);
        try (DeviceMemory pos = mem.uploadInts(positions)) {
            kernels.rope(mem.compute, p, 0, pos.address(), inv, tokens, heads, 0, headDim, rotaryDim, (long) heads * headDim,
                    0, 1f, interleaved, null);
        }
    }

    /** Slot (row of H·D elements in the pool) of position p of row b in a position-major view. */
    static long slot(KvView v, int b, int p) {
        return v.offset(b, 0, p) / ((long) v.heads() * v.headDim());
    }

    static void requireKernelLayout(KvView v) {
        if (!v.isPositionMajor()) {
            throw new IllegalArgumentException("the CUDA attention kernels read position-major K/V ([blocks, blockSize, H, D] "
                    + "or [B, S, H·D]); got strides batch " + v.batchStride() + ", head " + v.headStride() + ", pos " + v.posStride());
        }
    }

    void writeKv(Tensor src, KvView dst, int start) {
        if (src.rank() != 3) throw new IllegalArgumentException("writeKv source must be [B, S, H·D]: " + src);
        requireKernelLayout(dst);
        int batch = (int) src.dim(0), seq = (int) src.dim(1), hd = dst.heads() * dst.headDim();
        if (src.dim(2) != hd) throw new IllegalArgumentException("writeKv: " + src + " into " + dst.heads() + "×" + dst.headDim());
        long[] slots = new long[batch * seq];
        for (int b = 0; b < batch; b++) for (int p = 0; p < seq; p++) slots[b * seq + p] = slot(dst, b, start + p);
        long s = mem.ptr(src), d = mem.ptr(dst.data());
        try (DeviceMemory sl = mem.uploadLongs(slots)) {
            KvCacheView view = new KvCacheView(d, d, 0, 1, 1, dst.heads(), dst.headDim());
            // one tensor at a time: the k and v arguments are the same (identical bytes written twice)
            kernels.kvCacheWrite(mem.compute, view, s, s, sl.address(), batch * seq, hd, hd, null);
        }
    }

    void attention(Tensor q, int heads, int headDim, KvView k, KvView v, int kvLen,
                   AttentionMask mask, float scale, Tensor bias, Tensor out) {
        if (q.rank() != 3) throw new IllegalArgumentException("attention query must be [B, S, H·D]: " + q);
        requireKernelLayout(k);
        requireKernelLayout(v);
        if (k.heads() != v.heads() || k.headDim() != headDim || v.headDim() != headDim || k.blocks() != v.blocks()
                || k.isPaged() != v.isPaged() || k.batchStride() != v.batchStride()) {
            throw new IllegalArgumentException("attention: keys and values must be views of the same shape and block table");
        }
        int batch = (int) q.dim(0), sq = (int) q.dim(1);
        int kvh = k.heads();
        if (mask != null && mask.causal() && mask.queryOffset() != kvLen - sq) {
            throw new IllegalArgumentException("CUDA attention: causal queries must be the newest tokens (offset "
                    + mask.queryOffset() + ", " + sq + " queries, " + kvLen + " keys)");
        }
        List<DeviceMemory> temps = new ArrayList<>();
        try {
            long table = 0;
            int blockSize, maxBlocks;
            if (k.isPaged()) {
                blockSize = k.blockSize();
                maxBlocks = k.blocks()[0].length;
                int[] flat = new int[batch * maxBlocks];
                for (int b = 0; b < batch; b++) {
                    int[] row = k.blocks()[b];
                    for (int j = 0; j < maxBlocks; j++) flat[b * maxBlocks + j] = Math.max(row[j], 0);
                }
                DeviceMemory t = mem.uploadInts(flat);
                temps.add(t);
                table = t.address();
            } else {
                blockSize = (int) (k.batchStride() / k.posStride());
                maxBlocks = 1;
                if (kvLen > blockSize) throw new IllegalArgumentException("attention over " + kvLen + " keys of a view holding " + blockSize);
            }
            KvCacheView view = new KvCacheView(mem.ptr(k.data()), mem.ptr(v.data()), table, Math.max(blockSize, 1), maxBlocks, kvh, headDim);
            int[] lens = new int[batch];
            java.util.Arrays.fill(lens, kvLen);
            DeviceMemory lensDev = mem.uploadInts(lens);
            temps.add(lensDev);
            dev.cortado.backend.cuda.AttentionMask m = dev.cortado.backend.cuda.AttentionMask.NONE;
            if (mask != null && mask.keyValid() != null) {
                byte[] valid = new byte[batch * kvLen];
                for (int b = 0; b < batch; b++) for (int j = 0; j < kvLen; j++) valid[b * kvLen + j] = (byte) (mask.keyValid()[b][j] ? 1 : 0);
                DeviceMemory vm = mem.uploadBytes(valid);
                temps.add(vm);
                m = dev.cortado.backend.cuda.AttentionMask.keys(vm.address(), kvLen);
            }
            if (bias != null) {
                if (bias.dtype() != DType.F32 || bias.numel() != (long) heads * sq * kvLen) {
                    throw new IllegalArgumentException("attention bias must be fp32 [heads, Sq, kvLen]: " + bias);
                }
                m = m.withBias(mem.ptr(bias), 0, (long) sq * kvLen, kvLen);
            }
            boolean causal = mask != null && mask.causal();
            long qStride = (long) heads * headDim;
            if (sq == 1) {
                long ws = AttentionKernels.decodeWorkspaceBytes(batch, heads, headDim, kvLen);
                long wsPtr = 0;
                if (ws > 0) {
                    DeviceMemory w = mem.raw(ws);
                    temps.add(w);
                    wsPtr = w.address();
                }
                // one query at position kvLen - 1: the causal limit is all kvLen keys
                kernels.attention().decode(mem.compute, mem.ptr(out), mem.ptr(q), qStride, view, lensDev.address(), batch, heads,
                        kvLen, scale, m, wsPtr, null);
            } else {
                kernels.attention().prefill(mem.compute, mem.ptr(out), mem.ptr(q), qStride, sq, view, lensDev.address(), 0, batch,
                        heads, scale, causal, m, null);
            }
        } finally {
            for (DeviceMemory t : temps) t.close();
        }
    }

    synchronized void close() {
        invFreqs.clear();
    }
}
