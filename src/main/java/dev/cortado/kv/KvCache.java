package dev.cortado.kv;

import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;

/**
 * Self-attention KV cache for a batch of rows: per layer one K and one V tensor [rows, kvHeads, capacity,
 * headDim], preallocated once per session at the model's context length. Beam search reorders rows with
 * {@link #reorder}, which copies only the filled prefix of each row that actually changes.
 */
public final class KvCache {
    private final Backend backend;
    private final Tensor[] k, v;
    private final int rows, kvHeads, capacity, headDim;

    public KvCache(Backend backend, int layers, int rows, int kvHeads, int capacity, int headDim) {
        this.backend = backend;
        this.rows = rows;
        this.kvHeads = kvHeads;
        this.capacity = capacity;
        this.headDim = headDim;
        k = new Tensor[layers];
        v = new Tensor[layers];
        for (int l = 0; l < layers; l++) {
            k[l] = backend.allocate(DType.F32, rows, kvHeads, capacity, headDim);
            v[l] = backend.allocate(DType.F32, rows, kvHeads, capacity, headDim);
        }
    }

    public int capacity() {
        return capacity;
    }

    public KvView keys(int layer) {
        return KvView.ofCache(k[layer], kvHeads, capacity, headDim);
    }

    public KvView values(int layer) {
        return KvView.ofCache(v[layer], kvHeads, capacity, headDim);
    }

    /** Row i becomes a copy of old row sources[i], for the first {@code length} positions. */
    public void reorder(int[] sources, int length) {
        boolean identity = true;
        for (int i = 0; i < sources.length; i++) identity &= sources[i] == i;
        if (identity) return;
        for (int l = 0; l < k.length; l++) {
            k[l] = permute(k[l], sources, length);
            v[l] = permute(v[l], sources, length);
        }
    }

    private Tensor permute(Tensor t, int[] sources, int length) {
        Tensor out = backend.allocate(DType.F32, t.shape());
        long rowBytes = (long) kvHeads * capacity * headDim * 4;
        long used = (long) length * headDim * 4;
        for (int i = 0; i < rows; i++) {
            for (int h = 0; h < kvHeads; h++) {
                long src = sources[i] * rowBytes + (long) h * capacity * headDim * 4;
                long dst = i * rowBytes + (long) h * capacity * headDim * 4;
                java.lang.foreign.MemorySegment.copy(t.data(), src, out.data(), dst, used);
            }
        }
        return out;
    }
}
