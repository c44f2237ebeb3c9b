package dev.cortado.backend.cuda;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.KvView;
import dev.cortado.backend.StepMetadata;
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
    private DeviceMemory iota;   // int64 0, 1, 2, … (the slots of a contiguous destination), grown on demand

    CudaAttention(CudaMemory mem, Kernels kernels) {
        this.mem = mem;
        this.kernels = kernels;
    }

    /** The device copy of a model's fp32 table (rotary inverse frequencies, T5 bias buckets), uploaded on first use. */
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

    private static void checkViews(Tensor q, int headDim, KvView k, KvView v) {
        if (q.rank() != 3) throw new IllegalArgumentException("attention query must be [B, S, C]: " + q);
        requireKernelLayout(k);
        requireKernelLayout(v);
        if (k.heads() != v.heads() || k.headDim() != headDim || v.headDim() != headDim || k.blocks() != v.blocks()
                || k.isPaged() != v.isPaged() || k.batchStride() != v.batchStride()) {
            throw new IllegalArgumentException("attention: keys and values must be views of the same shape and block table");
        }
    }

    private static void checkCausal(AttentionMask mask, int sq, int kvLen) {
        if (mask != null && mask.causal() && mask.queryOffset() != kvLen - sq) {
            throw new IllegalArgumentException("CUDA attention: causal queries must be the newest tokens (offset "
                    + mask.queryOffset() + ", " + sq + " queries, " + kvLen + " keys)");
        }
    }

    /** Attention with lengths, block table and mask uploaded for this call (no bound step). */
    void attention(Tensor q, int heads, int headDim, KvView k, KvView v, int kvLen,
                   AttentionMask mask, float scale, Tensor bias, Tensor out) {
        checkViews(q, headDim, k, v);
        int batch = (int) q.dim(0), sq = (int) q.dim(1);
        checkCausal(mask, sq, kvLen);
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
            }
            int[] lens = new int[batch];
            java.util.Arrays.fill(lens, kvLen);
            DeviceMemory lensDev = mem.uploadInts(lens);
            temps.add(lensDev);
            long keyMask = 0;
            if (mask != null && mask.keyValid() != null) {
                byte[] valid = new byte[batch * kvLen];
                for (int b = 0; b < batch; b++) for (int j = 0; j < kvLen; j++) valid[b * kvLen + j] = (byte) (mask.keyValid()[b][j] ? 1 : 0);
                DeviceMemory vm = mem.uploadBytes(valid);
                temps.add(vm);
                keyMask = vm.address();
            }
            run(q, heads, headDim, k, v, table, blockSize, maxBlocks, lensDev.address(), keyMask, kvLen,
                    mask != null && mask.causal(), scale, bias, out, temps);
        } finally {
            for (DeviceMemory t : temps) t.close();
        }
    }

    /** True when the step was bound by this backend and its {@code cross}/self part addresses these views. */
    boolean binds(dev.cortado.backend.Step step, boolean cross, KvView... views) {
        if (!(step instanceof CudaStep cs) || cs.owner != mem) return false;
        StepMetadata.Attn a = cross ? step.meta().cross() : step.meta().self();
        if (a == null) return false;
        for (KvView v : views) if (!a.sameLayout(v)) return false;
        return true;
    }

    /** Attention with lengths, block table and mask read from the step's device buffer (nothing uploaded). */
    void attention(Tensor q, int heads, int headDim, KvView k, KvView v, CudaStep step, boolean cross, float scale,
                   Tensor bias, Tensor out) {
        checkViews(q, headDim, k, v);
        StepMetadata.Attn a = step.attn(cross);
        checkCausal(a.mask(), (int) q.dim(1), a.kvLen());
        StepPlan.Section s = step.plan.section(cross);
        List<DeviceMemory> temps = new ArrayList<>();
        try {
            // s.kvLen(): the step's key length, or its graph bucket's (padded; the kernels stop at each row's lens)
            run(q, heads, headDim, k, v, step.at(s.table()), s.blockSize(), s.maxBlocks(), step.at(s.lens()),
                    step.at(s.keyMask()), s.kvLen(), a.mask().causal(), scale, bias, out, temps);
        } finally {
            for (DeviceMemory t : temps) t.close();
        }
    }

    /** The kernel launch shared by both paths; q rows are q.dim(2) wide with the query heads first. */
    private void run(Tensor q, int heads, int headDim, KvView k, KvView v, long table, int blockSize, int maxBlocks,
                     long lens, long keyMask, int kvLen, boolean causal, float scale, Tensor bias, Tensor out,
                     List<DeviceMemory> temps) {
        int batch = (int) q.dim(0), sq = (int) q.dim(1);
        if (table == 0 && kvLen > blockSize) throw new IllegalArgumentException("attention over " + kvLen + " keys of a view holding " + blockSize);
        KvCacheView view = new KvCacheView(mem.ptr(k.data()), mem.ptr(v.data()), table, Math.max(blockSize, 1), maxBlocks,
                k.heads(), headDim);
        dev.cortado.backend.cuda.AttentionMask m = keyMask == 0 ? dev.cortado.backend.cuda.AttentionMask.NONE
                : dev.cortado.backend.cuda.AttentionMask.keys(keyMask, kvLen);
        if (bias != null) {
            if (bias.dtype() != DType.F32 || bias.numel() != (long) heads * sq * kvLen) {
                throw new IllegalArgumentException("attention bias must be fp32 [heads, Sq, kvLen]: " + bias);
            }
            m = m.withBias(mem.ptr(bias), 0, (long) sq * kvLen, kvLen);
        }
        long qStride = q.dim(2);
        if (qStride < (long) heads * headDim) throw new IllegalArgumentException("attention query rows of " + qStride + " for " + heads + " heads of " + headDim);
        if (sq == 1) {
            long ws = AttentionKernels.decodeWorkspaceBytes(batch, heads, headDim, kvLen);
            long wsPtr = 0;
            if (ws > 0) {
                DeviceMemory w = mem.raw(ws);
                temps.add(w);
                wsPtr = w.address();
            }
            // one query at position kvLen - 1: the causal limit is all kvLen keys
            kernels.attention().decode(mem.compute, mem.ptr(out), mem.ptr(q), qStride, view, lens, batch, heads,
                    kvLen, scale, m, wsPtr, null);
        } else {
            kernels.attention().prefill(mem.compute, mem.ptr(out), mem.ptr(q), qStride, sq, view, lens, 0, batch,
                    heads, scale, causal, m, null);
        }
    }

    /** Rotary embedding at the step's positions: q heads first in each row, then kvHeads k heads (fused q|k|v). */
    void rope(Tensor x, int heads, int kvHeads, int headDim, int rotaryDim, CudaStep step, float[] invFreq, boolean interleaved) {
        long cols = x.dim(-1);
        if (cols < (long) (heads + kvHeads) * headDim) throw new IllegalArgumentException("rope: rows of " + cols + " for " + (heads + kvHeads) + " heads");
        int tokens = (int) (x.numel() / cols);
        if (tokens > step.meta().rows() * step.meta().queries()) throw new IllegalArgumentException("rope: " + tokens + " tokens in a step of fewer");
        long p = mem.ptr(x);
        kernels.rope(mem.compute, p, kvHeads == 0 ? 0 : p + (long) heads * headDim * mem.esize, step.at(step.plan.ropePositions()),
                invFreq(invFreq), tokens, heads, kvHeads, headDim, rotaryDim, cols, cols, 1f, interleaved, null);
    }

    /** Keys and values of this step (columns kCol / vCol of k's and v's rows) into the caches, one launch. */
    void writeKv(Tensor k, int kCol, Tensor v, int vCol, KvView kDst, KvView vDst, CudaStep step) {
        requireKernelLayout(kDst);
        requireKernelLayout(vDst);
        int n = step.meta().rows() * step.meta().queries(), hd = kDst.heads() * kDst.headDim();
        if (k.numel() / k.dim(-1) != n || v.numel() / v.dim(-1) != n || kCol + hd > k.dim(-1) || vCol + hd > v.dim(-1)) {
            throw new IllegalArgumentException("writeKv: " + k + " / " + v + " for " + n + " tokens of " + hd);
        }
        KvCacheView view = new KvCacheView(mem.ptr(kDst.data()), mem.ptr(vDst.data()), 0, 1, 1, kDst.heads(), kDst.headDim());
        kernels.kvCacheWrite(mem.compute, view, mem.ptr(k) + kCol * mem.esize, mem.ptr(v) + vCol * mem.esize,
                step.at(step.plan.self().slots()), n, k.dim(-1), v.dim(-1), null);
    }

    /** T5's relative position bias for the step's queries, fp32 [heads, qLen, kLen = the step's (bucket) key length]. */
    Tensor relativePositionBias(float[] table, int numBuckets, int maxDistance, int heads, boolean bidirectional, int qLen,
                                CudaStep step) {
        if (table.length != numBuckets * heads) throw new IllegalArgumentException("bias table of " + table.length + " for " + numBuckets + " × " + heads);
        int kLen = step.plan.self().kvLen();
        Tensor out = mem.track(mem.raw(4L * heads * qLen * kLen), DType.F32, new long[] {heads, qLen, kLen});
        // batch 1: every row shares the bias (T5 steps are not ragged), row 0's query start
        kernels.attention().t5Bias(DType.F32, mem.ptr(out), invFreq(table), step.at(step.plan.queryStarts()), 1, heads, qLen,
                kLen, bidirectional, numBuckets, maxDistance, null);
        return out;
    }

    /** Device slots 0 .. n-1, uploaded once and grown by doubling (one upload per growth, not per call). */
    private synchronized long iota(int n) {
        if (iota == null || iota.byteSize() < 8L * n) {
            if (iota != null) iota.close();
            iota = null;
            long[] v = new long[Math.max(1024, Integer.highestOneBit(Math.max(n, 1)) << 1)];
            for (int i = 0; i < v.length; i++) v[i] = i;
            iota = mem.uploadLongs(v);
        }
        return iota.address();
    }

    /** x [..., 2·width] into its two column halves, one kernel (the KV write with slots 0 .. rows-1). */
    dev.cortado.tensor.Tensor[] splitColumns(Tensor x, int width) {
        if (x.dim(-1) != 2L * width) throw new IllegalArgumentException("splitColumns: rows of " + x.dim(-1) + ", not 2 × " + width);
        long[] shape = x.shape();
        shape[shape.length - 1] = width;
        int rows = Math.toIntExact(x.numel() / x.dim(-1));
        Tensor a = mem.allocate(x.dtype(), shape), b = mem.allocate(x.dtype(), shape);
        long p = mem.ptr(x);
        KvCacheView view = new KvCacheView(mem.ptr(a), mem.ptr(b), 0, 1, 1, 1, width);
        kernels.kvCacheWrite(mem.compute, view, p, p + (long) width * mem.esize, iota(rows), rows, 2L * width, 2L * width, null);
        return new Tensor[] {a, b};
    }

    synchronized void close() {
        invFreqs.clear();
        if (iota != null) iota.close();
        iota = null;
    }
}
