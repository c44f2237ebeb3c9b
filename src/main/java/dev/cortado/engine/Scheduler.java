package dev.cortado.engine;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.kv.KvPool;
import dev.cortado.kv.KvSource;
import dev.cortado.layers.Attention;
import dev.cortado.layers.DecoderLayer;
import dev.cortado.layers.TransformerDecoder;
import dev.cortado.layers.TransformerEncoder;
import dev.cortado.tensor.Tensor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Iteration-level continuous batching (Orca/vLLM) on one thread. Each iteration takes every session with a pending
 * step, oldest first: rows with one token to compute go into one ragged decode batch (one forward pass, each row
 * at its own length); rows with more (a prompt, or a preempted row's history) are prefilled in chunks from what is
 * left of the token budget. Sessions join at the next iteration and leave when they close. Blocks come from the
 * shared pool, prompt blocks from the prefix cache where it has them; when the pool is full the newest pending
 * session is preempted (its blocks freed, recomputed later), so the oldest always progresses: no OOM, no deadlock.
 */
final class Scheduler implements Runnable {
    private final Backend backend;
    private final TransformerDecoder decoder;
    /** Seq2seq models: the encoder, run once per request (again after a preemption) on this thread. */
    private final TransformerEncoder encoder;
    private final KvPool pool;
    private final EngineOptions options;
    private final int vocab;
    private final Object lock = new Object();
    private final Set<EngineSession> active = new HashSet<>();
    private final Set<EngineSession> pending = new HashSet<>();
    private boolean stopping;
    final AtomicLong iterations = new AtomicLong(), decodeRows = new AtomicLong(), prefillTokens = new AtomicLong(),
            preemptions = new AtomicLong(), copiedBlocks = new AtomicLong(), encodedTokens = new AtomicLong();

    Scheduler(Backend backend, TransformerEncoder encoder, TransformerDecoder decoder, KvPool pool, EngineOptions options) {
        this.backend = backend;
        this.encoder = encoder;
        this.decoder = decoder;
        this.pool = pool;
        this.options = options;
        this.vocab = decoder.lmHead().out();
    }

    void opened(EngineSession s) {
        synchronized (lock) {
            active.add(s);
        }
    }

    void submit(EngineSession s) {
        synchronized (lock) {
            pending.add(s);
            lock.notifyAll();
        }
    }

    void closed(EngineSession s) {
        synchronized (lock) {
            active.remove(s);
            pending.remove(s);
            lock.notifyAll();
        }
    }

    /** Stops the loop once nothing is pending (the engine has drained or cancelled its requests). */
    void stop() {
        synchronized (lock) {
            stopping = true;
            lock.notifyAll();
        }
    }

    @Override
    public void run() {
        while (true) {
            List<EngineSession> batch;
            try {
                batch = gather();
            } catch (InterruptedException e) {
                return;
            }
            if (batch == null) return;
            boolean progress;
            try {
                progress = iterate(batch);
            } catch (RuntimeException | Error e) {
                // a failing forward pass fails the requests in it, not the engine
                for (EngineSession s : batch) fail(s, e);
                progress = true;
            }
            if (!progress) {
                synchronized (lock) {
                    try {
                        lock.wait(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }
    }

    /** Waits for a pending step, then (briefly) for the other running sessions' next steps; oldest first. */
    private List<EngineSession> gather() throws InterruptedException {
        synchronized (lock) {
            while (pending.isEmpty()) {
                if (stopping) return null;
                lock.wait();
            }
            long until = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(options.gatherMicros());
            while (pending.size() < active.size()) {
                long left = until - System.nanoTime();
                if (left <= 0) break;
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            List<EngineSession> out = new ArrayList<>(pending);
            out.sort(Comparator.comparingLong(s -> s.order));
            return out;
        }
    }

    private boolean iterate(List<EngineSession> batch) {
        iterations.incrementAndGet();
        List<EngineSession> live = new ArrayList<>();
        for (EngineSession s : batch) {
            RuntimeException why = s.ctx.failure();
            if (why != null) fail(s, why);
            else live.add(s);
        }
        boolean progress = live.size() < batch.size();
        Set<EngineSession> preempted = new HashSet<>();
        // 0. seq2seq: encode new sources and put their cross-attention K/V into pool blocks
        int encodeBudget = options.tokenBudget();
        for (EngineSession s : live) {
            if (s.source == null || s.crossTable != null || preempted.contains(s)) continue;
            if (encodeBudget <= 0) break;
            if (!encode(s, live, preempted)) continue;
            encodeBudget -= s.source.length;
            progress = true;
        }
        // 1. one ragged decode batch: every row with exactly one token left
        List<EngineSession.Row> rows = new ArrayList<>();
        Set<EngineSession.Row> decoding = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        List<EngineSession> owners = new ArrayList<>();
        List<Integer> index = new ArrayList<>();
        for (EngineSession s : live) {
            if (preempted.contains(s)) continue;
            if (s.source != null && s.crossTable == null) continue;
            for (int r = 0; r < s.rows.length; r++) {
                EngineSession.Row row = s.rows[r];
                if (row.len - row.cached != 1) continue;
                if (!ensureBlocks(s, row, row.cached, row.cached + 1, live, preempted)) break;
                rows.add(row);
                decoding.add(row);
                owners.add(s);
                index.add(r);
            }
        }
        for (int i = rows.size() - 1; i >= 0; i--) {
            if (preempted.contains(owners.get(i))) { // cannot happen (victims are newer), kept as a guard
                rows.remove(i);
                owners.remove(i);
                index.remove(i);
            }
        }
        if (!rows.isEmpty()) {
            decode(rows, owners, index);
            progress = true;
        }
        // 2. prompt chunks from what is left of the budget
        int budget = Math.max(options.tokenBudget() - rows.size(), KvPool.BLOCK);
        for (EngineSession s : live) {
            if (budget <= 0) break;
            if (preempted.contains(s) || s.source != null && s.crossTable == null) continue;
            for (int r = 0; r < s.rows.length && budget > 0; r++) {
                EngineSession.Row row = s.rows[r];
                if (row.cached == 0 && options.prefixSharing()) reuseCachedPrefix(row);
                int left = row.len - row.cached;
                if (left <= 0 || left == 1 && decoding.contains(row)) continue;
                int n = Math.min(left, budget);
                if (!ensureBlocks(s, row, row.cached, row.cached + n, live, preempted)) break;
                prefill(s, r, n);
                budget -= n;
                progress = true;
            }
        }
        for (EngineSession s : live) completeIfDone(s);
        return progress;
    }

    /** Takes the prompt's full blocks (all but the one holding the last token) from the prefix cache. */
    private void reuseCachedPrefix(EngineSession.Row row) {
        int b = 0;
        while ((b + 1) * KvPool.BLOCK <= row.len - 1) {
            KvPool.BlockKey key = row.key(b);
            int id = pool.lookup(key);
            if (id < 0) break;
            row.table[b] = id;
            row.cached = (b + 1) * KvPool.BLOCK;
            row.keyed = b + 1;
            row.nextHash = key.next();
            b++;
        }
    }

    /** Blocks for positions [from, to) of a row, copying shared ones first; preempts newer sessions if needed. */
    private boolean ensureBlocks(EngineSession s, EngineSession.Row row, int from, int to, List<EngineSession> live,
                                 Set<EngineSession> preempted) {
        for (int b = from / KvPool.BLOCK; b <= (to - 1) / KvPool.BLOCK; b++) {
            int id = row.table[b];
            if (id >= 0 && pool.refs(id) == 1) continue;
            int fresh = allocate(s, live, preempted);
            if (fresh < 0) return false; // wait: older sessions hold the pool, this one goes on later
            if (id >= 0) {
                pool.copyBlock(id, fresh);
                pool.release(id);
                copiedBlocks.incrementAndGet();
            }
            row.table[b] = fresh;
        }
        return true;
    }

    /** A block for session s, preempting the newest pending sessions newer than s if the pool is full; -1 if none. */
    private int allocate(EngineSession s, List<EngineSession> live, Set<EngineSession> preempted) {
        int fresh = pool.allocate();
        while (fresh < 0) {
            EngineSession victim = null;
            for (EngineSession o : live)
                if (o.order > s.order && !preempted.contains(o) && o.holdsBlocks()) victim = o;
            if (victim == null) return -1;
            victim.preempt();
            preempted.add(victim);
            preemptions.incrementAndGet();
            fresh = pool.allocate();
        }
        return fresh;
    }

    /** Runs the encoder on a session's source and writes every layer's cross K/V into fresh blocks. */
    private boolean encode(EngineSession s, List<EngineSession> live, Set<EngineSession> preempted) {
        int len = s.source.length;
        int[] table = new int[(len + KvPool.BLOCK - 1) / KvPool.BLOCK];
        java.util.Arrays.fill(table, -1);
        for (int b = 0; b < table.length; b++) {
            table[b] = allocate(s, live, preempted);
            if (table[b] < 0) {
                for (int id : table) if (id >= 0) pool.release(id);
                return false;
            }
        }
        boolean[][] valid = new boolean[1][len];
        java.util.Arrays.fill(valid[0], true);
        int[][] tables = {table};
        try (Backend.Scope scope = backend.scope()) {
            Tensor hidden = encoder.forward(backend, new int[][] {s.source}, null, valid);
            for (int l = 0; l < decoder.layers().size(); l++) {
                Attention a = decoder.layers().get(l).crossAttention();
                backend.writeKv(a.k().forward(backend, hidden), pool.keys(l, tables), 0);
                backend.writeKv(a.v().forward(backend, hidden), pool.values(l, tables), 0);
            }
        }
        s.crossTable = table;
        encodedTokens.addAndGet(len);
        return true;
    }

    /** Cross-attention inputs for rows whose sessions' sources are in the pool (null for decoder-only models). */
    private List<DecoderLayer.Cross> cross(List<EngineSession> owners) {
        if (encoder == null) return null;
        int n = owners.size(), longest = 0;
        int[][] tables = new int[n][];
        for (int i = 0; i < n; i++) {
            tables[i] = owners.get(i).crossTable;
            longest = Math.max(longest, owners.get(i).source.length);
        }
        boolean[][] valid = new boolean[n][longest];
        for (int i = 0; i < n; i++) java.util.Arrays.fill(valid[i], 0, owners.get(i).source.length, true);
        AttentionMask mask = new AttentionMask(valid, false, 0);
        List<DecoderLayer.Cross> out = new ArrayList<>();
        for (int l = 0; l < decoder.layers().size(); l++)
            out.add(new DecoderLayer.Cross(pool.keys(l, tables), pool.values(l, tables), longest, mask, null));
        return out;
    }

    private void decode(List<EngineSession.Row> rows, List<EngineSession> owners, List<Integer> index) {
        int n = rows.size(), longest = 0;
        int[][] tokens = new int[n][1], pos = new int[n][1], tables = new int[n][];
        int[] flat = new int[n];
        for (int i = 0; i < n; i++) {
            EngineSession.Row row = rows.get(i);
            tokens[i][0] = row.hist[row.cached];
            pos[i][0] = flat[i] = row.cached;
            tables[i] = row.table;
            longest = Math.max(longest, row.cached);
        }
        boolean[][] valid = new boolean[n][longest + 1];
        for (int i = 0; i < n; i++) java.util.Arrays.fill(valid[i], 0, flat[i] + 1, true);
        float[] logits = forward(tokens, pos, flat, tables, longest, flat.clone(), new AttentionMask(valid, false, 0),
                cross(owners));
        decodeRows.addAndGet(n);
        for (int i = 0; i < n; i++) {
            EngineSession.Row row = rows.get(i);
            advance(row, 1);
            deliver(owners.get(i), index.get(i), logits, i);
        }
    }

    private void prefill(EngineSession s, int r, int n) {
        EngineSession.Row row = s.rows[r];
        int start = row.cached;
        int[][] tokens = new int[1][n], pos = new int[1][n];
        int[] flat = new int[n];
        for (int j = 0; j < n; j++) {
            tokens[0][j] = row.hist[start + j];
            pos[0][j] = flat[j] = start + j;
        }
        float[] logits = forward(tokens, pos, flat, new int[][] {row.table}, start, null, AttentionMask.causal(start),
                cross(List.of(s)));
        prefillTokens.addAndGet(n);
        advance(row, n);
        if (row.cached == row.len) deliver(s, r, logits, 0);
    }

    private float[] forward(int[][] tokens, int[][] pos, int[] flat, int[][] tables, int start, int[] rowStarts,
                            AttentionMask mask, List<DecoderLayer.Cross> cross) {
        KvSource kv = new KvSource() {
            @Override
            public KvView keys(int layer) {
                return pool.keys(layer, tables);
            }

            @Override
            public KvView values(int layer) {
                return pool.values(layer, tables);
            }
        };
        try (Backend.Scope scope = backend.scope()) {
            Tensor out = decoder.step(backend, tokens, pos, flat, kv, start, rowStarts, mask, cross);
            return backend.toHost(out);
        }
    }

    /** Marks n more tokens computed and registers newly full blocks in the prefix cache. */
    private void advance(EngineSession.Row row, int n) {
        row.cached += n;
        if (!options.prefixSharing()) return;
        while ((row.keyed + 1) * KvPool.BLOCK <= row.cached) {
            KvPool.BlockKey key = row.key(row.keyed);
            pool.register(row.table[row.keyed], key);
            row.nextHash = key.next();
            row.keyed++;
        }
    }

    private void deliver(EngineSession s, int r, float[] logits, int i) {
        float[] out = new float[vocab];
        System.arraycopy(logits, i * vocab, out, 0, vocab);
        s.pending.logits[r] = out;
    }

    private void completeIfDone(EngineSession s) {
        if (!s.computed()) return;
        EngineSession.Pending p = s.pending;
        synchronized (lock) {
            pending.remove(s);
        }
        p.done.complete(p.logits);
    }

    private void fail(EngineSession s, Throwable why) {
        synchronized (lock) {
            pending.remove(s);
        }
        s.pending.done.completeExceptionally(why);
    }
}
