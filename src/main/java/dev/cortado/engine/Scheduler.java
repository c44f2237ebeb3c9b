package dev.cortado.engine;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.Greedy;
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
            preemptions = new AtomicLong(), encodedTokens = new AtomicLong();

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
            encodeBudget -= s.source.length();
            progress = true;
        }
        // 1. plan one ragged pass: every row with one token left (decode), then prompt chunks (prefill) from what
        //    is left of the token budget; each token is a row of the pass at its own position
        List<Item> items = new ArrayList<>();
        Set<EngineSession.Row> decoding = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (EngineSession s : live) {
            if (preempted.contains(s) || s.source != null && s.crossTable == null) continue;
            for (int r = 0; r < s.rows.length; r++) {
                EngineSession.Row row = s.rows[r];
                if (row.len - row.cached != 1) continue;
                if (!ensureBlocks(s, row, row.cached, row.cached + 1, live, preempted)) break;
                items.add(new Item(s, r, row.cached, 1, true));
                decoding.add(row);
            }
        }
        int budget = Math.max(options.tokenBudget() - items.size(), KvPool.BLOCK);
        Set<KvPool.BlockKey> startedPrompts = new HashSet<>();
        plan:
        for (EngineSession s : live) {
            if (preempted.contains(s) || s.source != null && s.crossTable == null) continue;
            for (int r = 0; r < s.rows.length; r++) {
                if (budget <= 0) break plan;
                EngineSession.Row row = s.rows[r];
                if (decoding.contains(row)) continue;
                if (row.cached == 0 && options.prefixSharing()) {
                    reuseCachedPrefix(row);
                    // a prompt starting like one already in this pass waits one iteration, then finds its blocks cached
                    if (row.cached == 0 && row.len > KvPool.BLOCK && !startedPrompts.add(row.key(0))) continue;
                }
                int left = row.len - row.cached;
                if (left <= 0) continue;
                int n = Math.min(left, budget);
                if (!ensureBlocks(s, row, row.cached, row.cached + n, live, preempted)) break;
                items.add(new Item(s, r, row.cached, n, false));
                budget -= n;
            }
        }
        items.removeIf(it -> preempted.contains(it.session()));  // a prompt's blocks may have come from a newer session
        if (!items.isEmpty()) {
            run(items);
            progress = true;
        }
        for (EngineSession s : live) completeIfDone(s);
        return progress;
    }

    /** Tokens [from, from + n) of row r of a session, computed in this iteration's pass. */
    private record Item(EngineSession session, int r, int from, int n, boolean decode) {}

    /** One forward pass over every planned token (ragged rows); the head runs only where a row's last token is. */
    private void run(List<Item> items) {
        int total = 0;
        for (Item it : items) total += it.n();
        int[][] tokens = new int[total][1], pos = new int[total][1], tables = new int[total][];
        int[] flat = new int[total];
        List<EngineSession> owners = new ArrayList<>(total);
        List<Integer> logitRows = new ArrayList<>();
        int i = 0, longest = 0;
        for (Item it : items) {
            EngineSession.Row row = it.session().rows[it.r()];
            for (int j = 0; j < it.n(); j++, i++) {
                int p = it.from() + j;
                tokens[i][0] = row.hist[p];
                pos[i][0] = flat[i] = p;
                tables[i] = row.table;
                owners.add(it.session());
                longest = Math.max(longest, p);
            }
            if (it.from() + it.n() == row.len) logitRows.add(i - 1);
        }
        boolean[][] valid = new boolean[total][longest + 1];
        for (int k = 0; k < total; k++) java.util.Arrays.fill(valid[k], 0, flat[k] + 1, true);
        int[] heads = logitRows.stream().mapToInt(Integer::intValue).toArray();
        // each token row appends at its own position, so the positions are also the rows' cache starts
        // every head row choosing on the backend: the choices come back instead of logits
        int[] headRows = new int[heads.length];
        List<EngineSession> headOwners = new ArrayList<>(heads.length);
        for (Item it : items) {
            EngineSession.Row row = it.session().rows[it.r()];
            if (it.from() + it.n() == row.len) {
                headRows[headOwners.size()] = it.r();
                headOwners.add(it.session());
            }
        }
        boolean allChoose = true;
        for (EngineSession s : headOwners) allChoose &= s.pending.choice != null;
        Heads logits = forward(tokens, pos, flat, tables, longest, flat, new AttentionMask(valid, false, 0),
                cross(owners), heads, allChoose ? headOwners : null, headRows);
        int out = 0;
        for (Item it : items) {
            EngineSession.Row row = it.session().rows[it.r()];
            if (it.decode()) decodeRows.incrementAndGet();
            else prefillTokens.addAndGet(it.n());
            advance(row, it.n());
            if (row.cached == row.len) deliver(it.session(), it.r(), logits, out++);
        }
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
        int len = s.source.length();
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
        boolean written = false;
        try (Backend.Scope scope = backend.scope()) {
            Tensor hidden = s.source.ids != null ? encoder.forward(backend, new int[][] {s.source.ids}, null, valid)
                    : s.source.encode.apply(backend);
            if (hidden.dim(0) != 1 || hidden.dim(1) != len)
                throw new IllegalStateException("encoded source has shape " + java.util.Arrays.toString(hidden.shape()) + ", expected [1, " + len + ", d]");
            for (int l = 0; l < decoder.layers().size(); l++) {
                Attention a = decoder.layers().get(l).crossAttention();
                Tensor[] kv = a.crossKv(backend, hidden);
                backend.writeKv(kv[0], pool.keys(l, tables), 0);
                backend.writeKv(kv[1], pool.values(l, tables), 0);
            }
            written = true;
        } finally {
            if (!written) for (int id : table) pool.release(id);   // a failing encoder fails the request, not the pool
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
            longest = Math.max(longest, owners.get(i).source.length());
        }
        boolean[][] valid = new boolean[n][longest];
        for (int i = 0; i < n; i++) java.util.Arrays.fill(valid[i], 0, owners.get(i).source.length(), true);
        AttentionMask mask = new AttentionMask(valid, false, 0);
        List<DecoderLayer.Cross> out = new ArrayList<>();
        for (int l = 0; l < decoder.layers().size(); l++)
            out.add(new DecoderLayer.Cross(pool.keys(l, tables), pool.values(l, tables), longest, mask, null));
        return out;
    }

    /**
     * What the head rows of a pass give back: logits [rows·vocab] on the host, or — when every head row belongs to a
     * greedy step — only the backend's greedy picks.
     */
    private record Heads(float[] logits, Greedy greedy) {}

    /**
     * Each session's token choice over its head rows of {@code out} [heads, vocab] on the backend (one
     * {@link Backend#choose} per session: a session's rows are gathered device-side when they are not all the rows).
     */
    private Greedy choose(Tensor out, List<EngineSession> headOwners, int[] headRows) {
        int n = headOwners.size();
        int[] ids = new int[n];
        float[] lps = new float[n];
        java.util.Map<EngineSession, List<Integer>> bySession = new java.util.LinkedHashMap<>();
        for (int i = 0; i < n; i++) bySession.computeIfAbsent(headOwners.get(i), k -> new ArrayList<>()).add(i);
        long eb = backend.elementBytes(out.dtype()), row = vocab * eb;
        for (var e : bySession.entrySet()) {
            List<Integer> at = e.getValue();
            int m = at.size();
            int[] rows = new int[m];
            for (int j = 0; j < m; j++) rows[j] = headRows[at.get(j)];
            Tensor part = out;
            if (m != n) {
                part = backend.allocate(out.dtype(), m, vocab);
                for (int j = 0; j < m; j++) backend.copy(out, at.get(j) * row, part, j * row, row);
            }
            EngineSession.Pending p = e.getKey().pending;
            try {
                dev.cortado.backend.Choices c = backend.choose(part, p.choice.forRows(rows));
                for (int j = 0; j < m; j++) {
                    ids[at.get(j)] = c.ids()[j];
                    lps[at.get(j)] = c.logprobs()[j];
                }
            } catch (RuntimeException ex) {   // a processor refused this request's state: fail it, not the pass
                p.error = ex;
                for (int j : at) ids[j] = -1;
            }
        }
        return new Greedy(ids, lps);
    }

    private Heads forward(int[][] tokens, int[][] pos, int[] flat, int[][] tables, int start, int[] rowStarts,
                          AttentionMask mask, List<DecoderLayer.Cross> cross, int[] logitRows,
                          List<EngineSession> headOwners, int[] headRows) {
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
            Tensor out = decoder.step(backend, tokens, pos, flat, kv, start, rowStarts, mask, cross, logitRows);
            if (out == null) return new Heads(new float[0], null);
            return headOwners != null ? new Heads(null, choose(out, headOwners, headRows))
                    : new Heads(backend.takeHost(out), null);   // the step's logits are not used again: no copy on the CPU
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

    private void deliver(EngineSession s, int r, Heads heads, int i) {
        EngineSession.Pending p = s.pending;
        if (p.choice != null) {
            if (heads.greedy() != null) {
                p.ids[r] = heads.greedy().ids()[i];
                p.logprobs[r] = heads.greedy().logprobs()[i];
            } else {   // a pass mixing requests that want logits: this row's choice on its host logits
                try {
                    dev.cortado.backend.Choices c = dev.cortado.backend.HostChoice.choose(
                            java.util.Arrays.copyOfRange(heads.logits(), i * vocab, (i + 1) * vocab), 1, vocab,
                            p.choice.forRows(new int[] {r}));
                    p.ids[r] = c.ids()[0];
                    p.logprobs[r] = c.logprobs()[0];
                } catch (RuntimeException ex) {
                    p.error = ex;
                    p.ids[r] = -1;
                }
            }
            return;
        }
        float[] out = new float[vocab];
        System.arraycopy(heads.logits(), i * vocab, out, 0, vocab);
        p.logits[r] = out;
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
