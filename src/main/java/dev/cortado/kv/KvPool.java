package dev.cortado.kv;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * One paged KV pool shared by every sequence of a serving engine (vLLM's block manager): per layer one K and one V
 * pool [blocks, {@link #BLOCK}, kvHeads, headDim]; reference-counted blocks (beam forks, shared prefixes); and a
 * prefix cache: a full block is registered under the exact tokens it holds and a hash of every token before it,
 * so a later sequence with the same prefix takes the block instead of recomputing it. Unreferenced cached blocks
 * stay cached until space is needed (least recently released first). Thread-safe; the K/V data is written only
 * by the engine's scheduler thread.
 */
public final class KvPool implements AutoCloseable {
    public static final int BLOCK = KvCache.BLOCK;

    /** A full block's identity: hash of all tokens before it plus its own tokens (compared exactly). */
    public record BlockKey(long prefixHash, int[] tokens) {
        @Override
        public boolean equals(Object o) {
            return o instanceof BlockKey k && k.prefixHash == prefixHash && Arrays.equals(k.tokens, tokens);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(prefixHash) * 31 + Arrays.hashCode(tokens);
        }

        /** The prefix hash of the block after this one. */
        public long next() {
            long h = prefixHash ^ 0x9E3779B97F4A7C15L;
            for (int t : tokens) {
                h = (h ^ t) * 0xBF58476D1CE4E5B9L;
                h ^= h >>> 31;
            }
            return h;
        }
    }

    private final Backend backend;
    private final Tensor[] k, v;
    private final int kvHeads, headDim;
    private final long blockBytes;
    private final int[] refs;
    private final int[] free;
    private int freeCount;
    private final BlockKey[] keyOf;
    private final Map<BlockKey, Integer> cached = new HashMap<>();
    /** Cached blocks nobody references, least recently released first: taken when {@link #free} is empty. */
    private final LinkedHashSet<Integer> evictable = new LinkedHashSet<>();
    private long prefixHits, allocations;
    private int peakInUse;

    public KvPool(Backend backend, int layers, int kvHeads, int headDim, int blocks) {
        if (blocks < 1) throw new CortadoException("KV pool needs at least one block of " + BLOCK + " positions");
        this.backend = backend;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.blockBytes = (long) kvHeads * BLOCK * headDim * backend.elementBytes(DType.F32);
        if ((long) blocks * BLOCK * kvHeads * headDim > Integer.MAX_VALUE - 8 && backend.name().startsWith("cpu"))
            throw new CortadoException("KV pool of " + blocks + " blocks is larger than the CPU backend's 2^31-element "
                    + "limit per layer; lower --kv-memory");
        this.refs = new int[blocks];
        this.free = new int[blocks];
        for (int i = 0; i < blocks; i++) free[i] = blocks - 1 - i;
        this.freeCount = blocks;
        this.keyOf = new BlockKey[blocks];
        k = new Tensor[layers];
        v = new Tensor[layers];
        try {
            for (int l = 0; l < layers; l++) {
                k[l] = backend.allocate(DType.F32, blocks, BLOCK, kvHeads, headDim);
                v[l] = backend.allocate(DType.F32, blocks, BLOCK, kvHeads, headDim);
            }
        } catch (OutOfMemoryError e) {
            close();
            throw new CortadoException("not enough memory for a KV pool of " + blocks + " blocks ("
                    + bytesFor(layers, kvHeads, headDim, blocks, backend) / (1 << 20) + " MiB); lower --kv-memory");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Bytes a pool of {@code blocks} blocks takes (K and V, all layers). */
    public static long bytesFor(int layers, int kvHeads, int headDim, int blocks, Backend backend) {
        return 2L * layers * blocks * BLOCK * kvHeads * headDim * backend.elementBytes(DType.F32);
    }

    public int capacity() {
        return refs.length;
    }

    /** Blocks some sequence references now. */
    public synchronized int inUse() {
        return refs.length - freeCount - evictable.size();
    }

    /** Blocks that can be handed out now (free, or cached and unreferenced). */
    public synchronized int available() {
        return freeCount + evictable.size();
    }

    /** The most blocks referenced at once since the pool was made or {@link #resetPeak} was called. */
    public synchronized int peakInUse() {
        return peakInUse;
    }

    public synchronized void resetPeak() {
        peakInUse = refs.length - freeCount - evictable.size();
    }

    /** Prefix-cache hits so far (blocks taken instead of recomputed). */
    public synchronized long prefixHits() {
        return prefixHits;
    }

    /** Blocks handed out so far (fresh or evicted), not counting prefix hits. */
    public synchronized long allocations() {
        return allocations;
    }

    /** A block with reference count 1, or -1 when every block is referenced. */
    public synchronized int allocate() {
        int b;
        if (freeCount > 0) {
            b = free[--freeCount];
        } else if (!evictable.isEmpty()) {
            b = evictable.iterator().next();
            evictable.remove(b);
            cached.remove(keyOf[b]);
            keyOf[b] = null;
        } else {
            return -1;
        }
        refs[b] = 1;
        allocations++;
        notePeak();
        return b;
    }

    public synchronized void retain(int block) {
        if (refs[block] == 0) throw new IllegalStateException("retain of free KV block " + block);
        refs[block]++;
    }

    public synchronized void release(int block) {
        if (refs[block] <= 0) throw new IllegalStateException("release of free KV block " + block);
        if (--refs[block] > 0) return;
        if (keyOf[block] != null) evictable.add(block);
        else free[freeCount++] = block;
    }

    public synchronized int refs(int block) {
        return refs[block];
    }

    /** The cached block holding exactly {@code key}, retained for the caller; -1 when there is none. */
    public synchronized int lookup(BlockKey key) {
        Integer b = cached.get(key);
        if (b == null) return -1;
        if (refs[b] == 0) evictable.remove(b);
        refs[b]++;
        prefixHits++;
        notePeak();
        return b;
    }

    private void notePeak() {
        peakInUse = Math.max(peakInUse, refs.length - freeCount - evictable.size());
    }

    /** Registers a full, no longer written block under its key (a no-op when the key is already cached). */
    public synchronized void register(int block, BlockKey key) {
        if (keyOf[block] != null || cached.containsKey(key)) return;
        cached.put(key, block);
        keyOf[block] = key;
    }

    /** Copies one block's K and V (all layers): copy-on-write of a block shared by beam forks. */
    public void copyBlock(int from, int to) {
        for (int l = 0; l < k.length; l++) {
            backend.copy(k[l], from * blockBytes, k[l], to * blockBytes, blockBytes);
            backend.copy(v[l], from * blockBytes, v[l], to * blockBytes, blockBytes);
        }
    }

    /** Keys of a layer for the rows whose block tables are given (entries -1 = not allocated). */
    public KvView keys(int layer, int[][] tables) {
        return KvView.paged(k[layer], kvHeads, BLOCK, headDim, tables);
    }

    public KvView values(int layer, int[][] tables) {
        return KvView.paged(v[layer], kvHeads, BLOCK, headDim, tables);
    }

    /** Releases the pool's memory (device memory on CUDA). Idempotent. */
    @Override
    public void close() {
        for (int l = 0; l < k.length; l++) {
            if (k[l] != null) backend.free(k[l]);
            if (v[l] != null) backend.free(v[l]);
            k[l] = v[l] = null;
        }
    }
}
