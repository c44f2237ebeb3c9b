package dev.cortado.backend.cuda;

import dev.cortado.backend.KvView;
import dev.cortado.backend.Step;
import dev.cortado.backend.StepMetadata;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Decode steps captured once per shape bucket as a CUDA graph and replayed (vLLM's and llama.cpp's CUDA graphs). A
 * bucket is (rows, self-attention key length rounded up to a power-of-two number of 64-key blocks — or of the paged
 * cache's blocks —, cross key length, which metadata the step carries, the KV tensors it reads). The first step of a
 * bucket runs eagerly while its allocations are measured; the same step is then captured with its activations and
 * scratch bumped from one block allocated before capture and its metadata read from the bucket's step buffer. Later
 * steps of the bucket upload their packed metadata into that buffer (one host → device copy) and launch the graph
 * (one launch, no kernel launches from the host). Capture refused by the device or the driver (or a step that uploads
 * mid-way, e.g. a host-computed bias) is one debug line and the bucket runs eagerly from then on;
 * {@code -Dcortado.cudaGraphs=false} turns graphs off.
 *
 * <p>Rows: a paged self-attention step (the serving engine's ragged batches, whose size changes as requests come and
 * go) is padded up to its bucket's rows ({@link #bucketRows}: 1, 2, 4, 8, 16, 24, …) with inert rows
 * ({@link #padRows}), so a batch of 3 replays the graph of 4 instead of capturing a graph per size; the caller gets
 * the real rows' logits (a prefix of the bucket's). Contiguous caches are sized to their batch and are not padded.
 */
final class CudaStepGraphs implements AutoCloseable {
    static final String PROPERTY = "cortado.cudaGraphs";
    private static final System.Logger LOG = System.getLogger("dev.cortado.backend.cuda");
    /** Keys per context block of a contiguous (unpaged) cache. */
    static final int CONTEXT_BLOCK = 64;
    private static final int MAX_GRAPHS = 16;

    /** A bucket; the KV tensors are compared by identity (a graph reads their addresses). */
    record Bucket(int rows, StepPlan.Shape shape, boolean tokens, boolean embedPositions, boolean rope, boolean selfMask,
                  boolean cross, boolean crossMask, Tensor selfKeys, Tensor crossKeys) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Bucket b && rows == b.rows && shape.equals(b.shape) && tokens == b.tokens
                    && embedPositions == b.embedPositions && rope == b.rope && selfMask == b.selfMask && cross == b.cross
                    && crossMask == b.crossMask && selfKeys == b.selfKeys && crossKeys == b.crossKeys;
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(rows, shape, tokens, embedPositions, rope, selfMask, cross, crossMask,
                    System.identityHashCode(selfKeys), System.identityHashCode(crossKeys));
        }

        @Override
        public String toString() {
            return "rows " + rows + ", keys ≤ " + shape.selfKvLen() + (cross ? ", cross keys " + shape.crossKvLen() : "");
        }
    }

    private static final class Entry {
        DeviceMemory stepBuffer, arena;
        CudaDevice.Graph graph;
        boolean failed;
        long logitsOffset;
        DType logitsType;
        long[] logitsShape;

        void close() {
            if (graph != null) graph.close();
            if (arena != null) arena.close();
            if (stepBuffer != null) stepBuffer.close();
            graph = null;
            arena = stepBuffer = null;
        }
    }

    private final CudaMemory mem;
    private final boolean enabled;
    private final Map<Bucket, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long captures, replays, eager;

    CudaStepGraphs(CudaMemory mem) {
        this.mem = mem;
        this.enabled = !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true"));
    }

    /** {captured buckets, replayed steps, steps run eagerly by this path}. */
    synchronized long[] stats() {
        return new long[] {captures, replays, eager};
    }

    static int roundUpPow2(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }

    /** A bucket's rows for a step of {@code rows}: 1, 2, 4, 8, then multiples of 8 (vLLM's capture sizes). */
    static int bucketRows(int rows) {
        return rows <= 8 ? roundUpPow2(rows) : Math.ceilDiv(rows, 8) * 8;
    }

    /**
     * {@code m} with inert rows appended up to {@code rows} (a paged, self-attention-only decode step): token 0 at
     * position 0, no key written (StepPlan gives a row beyond the layout's block tables slot -1 and a table of block
     * 0), one valid key. The layout object is kept, so the layers' views still bind the step; every op is row-wise, so
     * the real rows compute what they compute unpadded, and the padding rows' outputs are dropped.
     */
    static StepMetadata padRows(StepMetadata m, int rows) {
        StepMetadata.Attn a = m.self();
        int real = m.rows();
        int[] starts = a.rowStarts() == null ? null : java.util.Arrays.copyOf(a.rowStarts(), rows);
        boolean[][] valid = a.mask().keyValid();
        if (valid != null) {
            valid = java.util.Arrays.copyOf(valid, rows);
            for (int r = real; r < rows; r++) {
                valid[r] = new boolean[Math.max(a.kvLen(), 1)];
                valid[r][0] = true;
            }
        }
        dev.cortado.backend.AttentionMask mask = new dev.cortado.backend.AttentionMask(valid, a.mask().causal(),
                a.mask().queryOffset());
        return new StepMetadata(rows, 1, pad(m.tokenIds(), rows), pad(m.embedPositions(), rows),
                pad(m.ropePositions(), rows), new StepMetadata.Attn(a.layout(), a.start(), starts, a.kvLen(), mask), null);
    }

    private static int[] pad(int[] v, int rows) {
        return v == null ? null : java.util.Arrays.copyOf(v, rows);
    }

    /** The step's bucket, or null when it cannot be graphed (not a one-token decode step). */
    static Bucket bucket(StepMetadata m) {
        if (m.queries() != 1) return null;
        StepMetadata.Attn self = m.self();
        KvView l = self.layout();
        if (l.data() == null) return null;
        int kvLen, blocks = 0;
        if (l.isPaged()) {
            int maxBlocks = 1;
            for (int[] row : l.blocks()) maxBlocks = Math.max(maxBlocks, row.length);
            blocks = roundUpPow2(maxBlocks);
            kvLen = blocks * l.blockSize();
        } else {
            int capacity = (int) Math.max(1, l.batchStride() / l.posStride());
            kvLen = Math.min(capacity, roundUpPow2(Math.ceilDiv(self.kvLen(), CONTEXT_BLOCK)) * CONTEXT_BLOCK);
        }
        StepMetadata.Attn cross = m.cross();
        if (cross != null && cross.layout().data() == null) return null;
        StepPlan.Shape shape = new StepPlan.Shape(kvLen, blocks, cross == null ? 0 : cross.kvLen());
        // ragged serving batches (paged, no cross-attention) round their rows up: one graph serves several sizes
        int rows = l.isPaged() && cross == null && l.blocks().length == m.rows() ? bucketRows(m.rows()) : m.rows();
        return new Bucket(rows, shape, m.tokenIds() != null, m.embedPositions() != null, m.ropePositions() != null,
                self.mask().keyValid() != null, cross != null, cross != null && cross.mask().keyValid() != null,
                l.data(), cross == null ? null : cross.layout().data());
    }

    /** Runs one step's ops ({@code body}: step → logits), replaying its bucket's graph when there is one. */
    Tensor run(StepMetadata meta, boolean graphable, Function<Step, Tensor> body) {
        Bucket key = enabled && graphable ? bucket(meta) : null;
        if (key == null) return eager(meta, body);
        Entry e;
        synchronized (this) {
            e = entries.get(key);
        }
        if (e != null && e.failed) return eager(meta, body);
        int rows = meta.rows();
        StepPlan plan = StepPlan.of(key.rows() == rows ? meta : padRows(meta, key.rows()), key.shape());
        if (e != null) {
            mem.uploadStep(plan, e.stepBuffer);
            e.graph.launch();
            synchronized (this) { replays++; }
            long[] shape = e.logitsShape.clone();
            if (shape[0] == key.rows()) shape[0] = rows;   // the real rows: a prefix of the padded logits
            return mem.track(e.arena.slice(e.logitsOffset, Tensor.numel(shape) * mem.esize), e.logitsType, shape);
        }
        Tensor out = captureNew(key, plan, body);
        if (rows == key.rows() || out.dim(0) != key.rows()) return out;
        long[] shape = out.shape();
        shape[0] = rows;
        Tensor real = mem.allocate(out.dtype(), shape);   // the bucket's first step: copy out the real rows once
        mem.copy(out, 0, real, 0, Tensor.numel(shape) * mem.esize);
        return real;
    }

    private Tensor eager(StepMetadata meta, Function<Step, Tensor> body) {
        synchronized (this) { eager++; }
        try (Step st = new CudaStep(mem, meta)) {
            return body.apply(st);
        }
    }

    /** The bucket's first step: eager (measured), then captured for the next ones. */
    private Tensor captureNew(Bucket key, StepPlan plan, Function<Step, Tensor> body) {
        Entry e = new Entry();
        e.stepBuffer = mem.raw(plan.bytes());
        Tensor out;
        long need;
        CudaStep step = new CudaStep(mem, plan, e.stepBuffer);
        try {
            mem.uploadStep(plan, e.stepBuffer);
            CudaMemory.StepArena measure = new CudaMemory.StepArena(mem.device(), null);
            CudaMemory.StepArena before = mem.arena(measure);
            try {
                out = body.apply(step);
            } finally {
                mem.arena(before);
            }
            need = measure.used();
        } catch (RuntimeException | Error ex) {
            e.close();
            throw ex;
        }
        try {
            e.arena = mem.raw(Math.max(need, 256));
            CudaMemory.StepArena bump = new CudaMemory.StepArena(mem.device(), e.arena);
            e.graph = mem.device().capture(() -> {
                CudaMemory.StepArena before = mem.arena(bump);
                try {
                    Tensor logits = body.apply(step);
                    e.logitsOffset = mem.ptr(logits) - e.arena.address();
                    e.logitsType = logits.dtype();
                    e.logitsShape = logits.shape();
                } finally {
                    mem.arena(before);
                }
            });
            synchronized (this) { captures++; }
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.DEBUG, "CUDA graph capture unavailable for decode steps of " + key + " (" + ex.getMessage()
                    + "): running them eagerly");
            e.close();
            e.failed = true;
        }
        synchronized (this) {
            Entry old = entries.put(key, e);
            if (old != null) old.close();
            Iterator<Map.Entry<Bucket, Entry>> it = entries.entrySet().iterator();
            while (entries.size() > MAX_GRAPHS && it.hasNext()) {
                it.next().getValue().close();
                it.remove();
            }
        }
        return out;
    }

    /** Graphs that read {@code keys} (a freed KV cache) are dropped. */
    synchronized void forget(Tensor keys) {
        entries.entrySet().removeIf(en -> {
            boolean hit = en.getKey().selfKeys() == keys || en.getKey().crossKeys() == keys;
            if (hit) en.getValue().close();
            return hit;
        });
    }

    @Override
    public synchronized void close() {
        for (Entry e : entries.values()) e.close();
        entries.clear();
    }
}
