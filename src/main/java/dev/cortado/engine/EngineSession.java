package dev.cortado.engine;

import dev.cortado.CortadoException;
import dev.cortado.backend.Choices;
import dev.cortado.backend.TokenChoice;
import dev.cortado.generate.DecoderSession;
import dev.cortado.kv.KvPool;
import java.util.Arrays;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A {@link DecoderSession} whose steps run in the engine's batched iterations. The generation code (greedy,
 * sampling, beams) drives it exactly as it drives a model alone; {@link #step} hands the new tokens to the
 * scheduler and waits for their logits. Each row keeps its whole token history, its block table in the shared
 * {@link KvPool} and how many of its tokens have K/V in the pool ({@code cached}); left padding is dropped (a
 * padded position is invisible and does not advance positions, so a row without it is the same sequence), which
 * lets rows of any length share a batch. Preemption frees a row's blocks and sets {@code cached} to 0: the
 * scheduler recomputes the history later, the caller only waits longer.
 *
 * <p>Threads: the generator thread mutates a session only between steps; while a step is pending the scheduler
 * owns it.
 */
final class EngineSession implements DecoderSession {
    /** One sequence: history, K/V progress and block table. */
    static final class Row {
        int[] hist;
        int len, cached;
        int[] table;
        /** Full blocks of this row registered in (or found in) the prefix cache, and the hash before the next. */
        int keyed;
        long nextHash;
        /** Hash the prefix chain starts from: 0, or the source's for a seq2seq decoder (its K/V depend on it). */
        long base;

        Row(int blocks) {
            hist = new int[64];
            table = new int[blocks];
            Arrays.fill(table, -1);
        }

        Row copy(KvPool pool) {
            Row r = new Row(0);
            r.hist = Arrays.copyOf(hist, Math.max(len + 16, 64));
            r.len = len;
            r.cached = cached;
            r.table = table.clone();
            for (int id : r.table) if (id >= 0) pool.retain(id);
            r.keyed = keyed;
            r.nextHash = nextHash;
            r.base = base;
            return r;
        }

        void append(int token) {
            if (len == hist.length) hist = Arrays.copyOf(hist, hist.length * 2);
            hist[len++] = token;
        }

        void release(KvPool pool) {
            for (int i = 0; i < table.length; i++) {
                if (table[i] >= 0) pool.release(table[i]);
                table[i] = -1;
            }
            cached = 0;
            keyed = 0;
            nextHash = base;
        }

        KvPool.BlockKey key(int block) {
            return new KvPool.BlockKey(nextHash, Arrays.copyOfRange(hist, block * KvPool.BLOCK, (block + 1) * KvPool.BLOCK));
        }
    }

    /**
     * A step waiting for logits: row r's are set when its last token has been computed. A greedy step
     * ({@link #stepGreedy}) gets each row's pick (id, log-probability) instead, computed on the backend.
     */
    static final class Pending {
        final float[][] logits;
        final boolean greedy;
        /** The step's token choice (GREEDY / SAMPLE, rows of this session), made on the backend; null: logits. */
        final TokenChoice choice;
        final int[] ids;
        final float[] logprobs;
        final CompletableFuture<float[][]> done = new CompletableFuture<>();
        /** A processor of {@link #choice} failed on the scheduler thread (bad input): thrown to the requester. */
        volatile RuntimeException error;

        Pending(int rows, boolean greedy) {
            this(rows, greedy ? TokenChoice.greedy(null, null, null, -1) : null);
        }

        Pending(int rows, TokenChoice choice) {
            logits = new float[rows][];
            this.choice = choice;
            this.greedy = choice != null;
            ids = greedy ? new int[rows] : null;
            logprobs = greedy ? new float[rows] : null;
        }
    }

    final long order;
    final Engine.RequestContext ctx;
    /** Seq2seq: the source, and the blocks holding every layer's cross-attention K/V (null until encoded). */
    final Source source;
    int[] crossTable;
    private final Scheduler scheduler;
    private final KvPool pool;
    private final int maxPositions;
    Row[] rows;
    volatile Pending pending;
    private int length;
    private boolean closed;

    EngineSession(long order, Engine.RequestContext ctx, Scheduler scheduler, KvPool pool, int rows, int maxPositions,
                  Source source) {
        this.order = order;
        this.ctx = ctx;
        this.source = source;
        this.scheduler = scheduler;
        this.pool = pool;
        this.maxPositions = maxPositions;
        int blocks = (maxPositions + KvPool.BLOCK - 1) / KvPool.BLOCK;
        this.rows = new Row[rows];
        long base = source == null ? 0 : source.base;
        for (int r = 0; r < rows; r++) {
            this.rows[r] = new Row(blocks);
            this.rows[r].base = this.rows[r].nextHash = base;
        }
    }

    @Override
    public float[][] step(int[][] tokens, boolean[][] valid) {
        return submit(tokens, valid, false).logits;
    }

    /** The scheduler picks greedily on the backend for this step's rows: ids and log-probabilities come back. */
    @Override
    public dev.cortado.backend.Greedy stepGreedy(int[][] tokens, boolean[][] valid) {
        Pending p = submit(tokens, valid, true);
        return new dev.cortado.backend.Greedy(p.ids, p.logprobs);
    }

    /**
     * The scheduler makes the step's token choice on the backend (greedy or sampled rows; each pass's rows of this
     * session): ids and log-probabilities come back. Beam groups and top alternatives are chosen on the host from
     * the step's logits (a group's rows may finish in different passes).
     */
    @Override
    public Choices choose(int[][] tokens, boolean[][] valid, TokenChoice choice) {
        if (choice.mode() == TokenChoice.Mode.BEAM || choice.topLogprobs() >= 0)
            return DecoderSession.super.choose(tokens, valid, choice);
        Pending p = submit(tokens, valid, choice);
        if (p.error != null) throw p.error;
        for (int r = 0; r < rows.length; r++) {
            if (choice.isActive(r)) continue;
            p.ids[r] = -1;
            p.logprobs[r] = Float.NaN;
        }
        return new Choices(p.ids, p.logprobs, null, null, null, null);
    }

    private Pending submit(int[][] tokens, boolean[][] valid, boolean greedy) {
        return submit(tokens, valid, greedy ? TokenChoice.greedy(null, null, null, -1) : null);
    }

    private Pending submit(int[][] tokens, boolean[][] valid, TokenChoice choice) {
        if (tokens.length != rows.length) throw new IllegalArgumentException("expected " + rows.length + " rows, got " + tokens.length);
        if (closed) throw new IllegalStateException("session is closed");
        ctx.check();
        int n = tokens[0].length;
        for (int r = 0; r < rows.length; r++) {
            int add = 0;
            for (int j = 0; j < n; j++) if (valid == null || valid[r][j]) add++;
            if (add == 0) throw new IllegalArgumentException("row " + r + " has no valid token in this step");
            if (rows[r].len + add > maxPositions)
                throw new CortadoException("sequence of " + (rows[r].len + add) + " tokens exceeds the model's context of "
                        + maxPositions + " positions");
        }
        for (int r = 0; r < rows.length; r++)
            for (int j = 0; j < n; j++) if (valid == null || valid[r][j]) rows[r].append(tokens[r][j]);
        length += n;
        Pending p = new Pending(rows.length, choice);
        pending = p;
        scheduler.submit(this);
        try {
            p.done.get();
            return p;
        } catch (InterruptedException e) {
            ctx.cancel(); // the scheduler drops the step at its next iteration; wait for that before giving up the rows
            try {
                p.done.join();
            } catch (RuntimeException ignored) {
                // cancelled, as asked
            }
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new CortadoException(String.valueOf(e.getCause().getMessage()), e.getCause());
        }
    }

    @Override
    public void reorder(int[] sources) {
        Row[] next = new Row[sources.length];
        for (int i = 0; i < sources.length; i++) next[i] = rows[sources[i]].copy(pool);
        for (Row r : rows) r.release(pool);
        rows = next;
    }

    @Override
    public int rows() {
        return rows.length;
    }

    @Override
    public int length() {
        return length;
    }

    /** Whether every row's tokens have K/V in the pool (the pending step is complete). */
    boolean computed() {
        for (Row r : rows) if (r.cached < r.len) return false;
        return true;
    }

    boolean holdsBlocks() {
        if (crossTable != null) return true;
        for (Row r : rows) for (int id : r.table) if (id >= 0) return true;
        return false;
    }

    /** Frees every block; the rows (and the source's cross K/V) are recomputed when scheduled again. */
    void preempt() {
        for (Row r : rows) r.release(pool);
        releaseCross();
    }

    private void releaseCross() {
        if (crossTable == null) return;
        for (int id : crossTable) if (id >= 0) pool.release(id);
        crossTable = null;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (Row r : rows) r.release(pool);
        releaseCross();
        scheduler.closed(this);
    }
}
