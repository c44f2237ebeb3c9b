package dev.cortado.bench;

import dev.cortado.engine.DecoderModel;
import dev.cortado.engine.Engine;
import dev.cortado.engine.EngineOptions;
import dev.cortado.engine.Request;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.Generator;
import dev.cortado.kv.KvPool;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The three systems {@code bench serve} compares on one model and one request list, all greedy with exactly each
 * request's output length: the serving {@link Engine} (continuous batching over a paged KV pool), static batching
 * (fixed batches through {@link Generator#generateIds}, left-padded, no joining: a batch runs until its longest
 * request is done) and one at a time (a FIFO queue in front of single {@link Generator} calls).
 */
final class ServeSystems {
    private ServeSystems() {}

    static final String ENGINE = "engine", STATIC = "static", SEQUENTIAL = "one-at-a-time";
    static final List<String> ALL = List.of(SEQUENTIAL, STATIC, ENGINE, ServeHttpSystem.NAME);

    /** A system for one load point: a {@link ServeLoad.Target} that also reports what it held. */
    interface Server extends ServeLoad.Target, AutoCloseable {
        /** Peak KV blocks: in use (engine) or the block-equivalent of the contiguous caches it preallocated. */
        int kvPeak();

        /** Counters for the JSON report. */
        default java.util.Map<String, Object> extra() {
            return java.util.Map.of();
        }

        @Override
        void close();
    }

    static GenerationConfig greedy(int maxNew) {
        return GenerationConfig.greedy().maxNewTokens(maxNew);
    }

    static int blocksPerRow(DecoderModel model) {
        return (model.maxPositions() + KvPool.BLOCK - 1) / KvPool.BLOCK;
    }

    /** Continuous batching: every request goes straight to {@link Engine#submit}; the pool tracks its peak blocks. */
    static final class EngineSystem implements Server {
        private final Engine engine;
        private final Engine.Stats before;

        EngineSystem(DecoderModel model, EngineOptions options) {
            engine = new Engine(model, null, options);
            before = engine.stats();
            engine.pool().resetPeak();
        }

        @Override
        public void submit(ServeLoad.Trace t) {
            engine.submit(Request.ofIds(t.req.prompt(), greedy(t.req.maxNew())), tok -> t.token(tok.id()))
                    .whenComplete((c, e) -> {
                        if (e != null) t.fail(e);
                        else t.complete();
                    });
        }

        @Override
        public int kvPeak() {
            return engine.pool().peakInUse();
        }

        @Override
        public java.util.Map<String, Object> extra() {
            Engine.Stats s = engine.stats();
            long iters = s.iterations() - before.iterations(), rows = s.decodeRows() - before.decodeRows();
            return java.util.Map.of("iterations", iters, "decode_rows", rows,
                    "mean_decode_rows", iters == 0 ? 0.0 : (double) rows / iters,
                    "prefill_tokens", s.prefillTokens() - before.prefillTokens(),
                    "preemptions", s.preemptions() - before.preemptions(),
                    "prefix_hits", s.prefixHits() - before.prefixHits(), "kv_blocks", s.blocks());
        }

        @Override
        public void close() {
            engine.close();
        }
    }

    /**
     * One worker thread with a FIFO queue. {@code batch} = 1: one request at a time. Otherwise static batching: a
     * batch starts once {@code batch} requests wait, or every request has arrived, or the worker has been free with
     * a partial batch waiting for {@code waitMs}; then it runs to its longest request's length (shorter rows ride
     * along, computing tokens nobody asked for) and new arrivals wait for the next batch.
     */
    static final class QueueSystem implements Server {
        private final DecoderModel model;
        private final int batch;
        private final long waitNs;
        private final ArrayDeque<ServeLoad.Trace> queue = new ArrayDeque<>();
        private final Thread worker;
        private boolean noMore, closing;
        private int maxRows, batches, batchedRequests;
        private long paddedTokens, wastedTokens;

        QueueSystem(DecoderModel model, int batch, long waitMs) {
            this.model = model;
            this.batch = batch;
            this.waitNs = TimeUnit.MILLISECONDS.toNanos(waitMs);
            this.worker = Thread.ofPlatform().daemon().name(batch == 1 ? "bench-serve-sequential" : "bench-serve-static").start(this::work);
        }

        /**
         * What a server does at startup, outside the timed run: one tiny batch of {@code batch} rows, so the cache for
         * full batches is allocated (the model keeps it for the next session of that size) and weights are packed.
         */
        QueueSystem prime() {
            int[][] prompts = new int[batch][];
            for (int i = 0; i < batch; i++) prompts[i] = new int[] {0};
            try {
                new Generator(model, null, greedy(1)).generateIds(prompts);
            } catch (RuntimeException | Error e) {
                close();
                throw e;
            }
            return this;
        }

        @Override
        public synchronized void submit(ServeLoad.Trace t) {
            queue.add(t);
            notifyAll();
        }

        @Override
        public synchronized void noMoreArrivals() {
            noMore = true;
            notifyAll();
        }

        private synchronized List<ServeLoad.Trace> take() throws InterruptedException {
            while (queue.isEmpty()) {
                if (closing) return null;
                wait();
            }
            long until = System.nanoTime() + waitNs;
            while (queue.size() < batch && !noMore && !closing) {
                long left = until - System.nanoTime();
                if (left <= 0) break;
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            List<ServeLoad.Trace> out = new ArrayList<>();
            while (out.size() < batch && !queue.isEmpty()) out.add(queue.poll());
            return out;
        }

        private void work() {
            while (true) {
                List<ServeLoad.Trace> b;
                try {
                    b = take();
                } catch (InterruptedException e) {
                    return;
                }
                if (b == null) return;
                try {
                    run(b);
                } catch (RuntimeException | Error e) {
                    b.forEach(t -> t.fail(e));
                }
            }
        }

        private void run(List<ServeLoad.Trace> b) {
            int longest = 0, maxPrompt = 0;
            int[][] prompts = new int[b.size()][];
            for (int i = 0; i < prompts.length; i++) {
                prompts[i] = b.get(i).req.prompt();
                longest = Math.max(longest, b.get(i).req.maxNew());
                maxPrompt = Math.max(maxPrompt, prompts[i].length);
            }
            for (ServeLoad.Trace t : b) {
                paddedTokens += maxPrompt - t.req.prompt().length;
                wastedTokens += longest - t.req.maxNew();
            }
            maxRows = Math.max(maxRows, b.size());
            batches++;
            batchedRequests += b.size();
            new Generator(model, null, greedy(longest)).generateIds(prompts, tok -> b.get(tok.sequence()).token(tok.id()));
            b.forEach(ServeLoad.Trace::complete);
        }

        @Override
        public int kvPeak() {
            return maxRows * blocksPerRow(model);
        }

        @Override
        public java.util.Map<String, Object> extra() {
            if (batch == 1) return java.util.Map.of("kv_preallocated_rows", maxRows);
            return java.util.Map.of("batch_size", batch, "batches", batches,
                    "mean_batch", batches == 0 ? 0.0 : (double) batchedRequests / batches, "kv_preallocated_rows", maxRows,
                    "left_pad_tokens", paddedTokens, "tokens_past_own_length", wastedTokens);
        }

        @Override
        public void close() {
            synchronized (this) {
                closing = true;
                notifyAll();
            }
            try {
                worker.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
