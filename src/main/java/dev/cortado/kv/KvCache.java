package dev.cortado.kv;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.util.Arrays;

/**
 * Paged self-attention KV cache (vLLM style) for a batch of rows: per layer one K and one V pool
 * [numBlocks, blockSize, kvHeads, headDim] (the CUDA kernels' layout too), preallocated once per session; each row owns a block table. Beam
 * search forks rows by copying block tables and bumping reference counts ({@link #reorder}: no K/V data is copied);
 * a write into a shared block copies that one block first (copy-on-write).
 */
public final class KvCache implements KvSource {
    public static final int BLOCK = 16;

    private final Backend backend;
    private final Tensor[] k, v;
    private final int rows, kvHeads, capacity, headDim;
    private final BlockAllocator blocks;
    private int[][] table;
    private final long blockBytes;
    private int copiedBlocks;

    public KvCache(Backend backend, int layers, int rows, int kvHeads, int capacity, int headDim) {
        this.backend = backend;
        this.rows = rows;
        this.kvHeads = kvHeads;
        this.capacity = capacity;
        this.headDim = headDim;
        int perRow = (capacity + BLOCK - 1) / BLOCK;
        this.blocks = new BlockAllocator(rows * perRow);
        this.table = new int[rows][perRow];
        for (int[] t : table) Arrays.fill(t, -1);
        this.blockBytes = (long) kvHeads * BLOCK * headDim * backend.elementBytes(DType.F32);
        k = new Tensor[layers];
        v = new Tensor[layers];
        try {
            for (int l = 0; l < layers; l++) {
                k[l] = backend.allocate(DType.F32, (long) rows * perRow, BLOCK, kvHeads, headDim);
                v[l] = backend.allocate(DType.F32, (long) rows * perRow, BLOCK, kvHeads, headDim);
            }
        } catch (RuntimeException e) {
            free();
            throw e;
        }
    }

    public int capacity() {
        return capacity;
    }

    /** Makes positions [start, start + n) of every row writable: allocates missing blocks, un-shares shared ones. */
    public void prepareWrite(int start, int n) {
        if (start + n > capacity) {
            throw new CortadoException("KV cache holds " + capacity + " positions; writing up to " + (start + n) + " does not fit");
        }
        for (int r = 0; r < rows; r++) {
            for (int blk = start / BLOCK; blk <= (start + n - 1) / BLOCK; blk++) {
                int id = table[r][blk];
                if (id < 0) {
                    table[r][blk] = blocks.allocate();
                } else if (blocks.refs(id) > 1) {
                    int copy = blocks.allocate();
                    for (int l = 0; l < k.length; l++) {
                        backend.copy(k[l], id * blockBytes, k[l], copy * blockBytes, blockBytes);
                        backend.copy(v[l], id * blockBytes, v[l], copy * blockBytes, blockBytes);
                    }
                    blocks.release(id);
                    table[r][blk] = copy;
                    copiedBlocks++;
                }
            }
        }
    }

    @Override
    public KvView keys(int layer) {
        return KvView.paged(k[layer], kvHeads, BLOCK, headDim, table);
    }

    @Override
    public KvView values(int layer) {
        return KvView.paged(v[layer], kvHeads, BLOCK, headDim, table);
    }

    /** Row i continues old row sources[i]: block tables are copied and shared (reference counted), data is not. */
    public void reorder(int[] sources, int length) {
        int[][] next = new int[rows][];
        for (int i = 0; i < rows; i++) {
            next[i] = table[sources[i]].clone();
            for (int id : next[i]) if (id >= 0) blocks.retain(id);
        }
        for (int[] old : table) for (int id : old) if (id >= 0) blocks.release(id);
        table = next;
    }

    /** Frees every row's blocks so the preallocated pools serve the next request. */
    public void reset() {
        for (int[] t : table) {
            for (int i = 0; i < t.length; i++) {
                if (t[i] >= 0) blocks.release(t[i]);
                t[i] = -1;
            }
        }
    }

    public int rows() {
        return rows;
    }

    /** Blocks copied by copy-on-write so far (tests check forks copy at most the block being written). */
    public int copiedBlocks() {
        return copiedBlocks;
    }

    /** Releases the pools (device memory on CUDA; a no-op on the CPU). Idempotent. */
    public void free() {
        for (int l = 0; l < k.length; l++) {
            if (k[l] != null) backend.free(k[l]);
            if (v[l] != null) backend.free(v[l]);
            k[l] = v[l] = null;
        }
    }

    public int blocksInUse() {
        return blocks.inUse();
    }
}
