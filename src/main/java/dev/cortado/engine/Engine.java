package dev.cortado.engine;

import dev.cortado.CortadoException;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.GeneratedToken;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.kv.KvPool;
import dev.cortado.tokenizer.Tokenizer;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The serving engine for one decoder-only model: thread-safe, asynchronous, continuously batched. Every request's
 * generation (greedy, seeded sampling, beam search, stop strings, logprobs: the same {@link Generator} code as a
 * single call, so the same tokens) runs on its own virtual thread; its decode steps are batched with every other
 * running request's by one scheduler thread over one paged KV pool with prefix sharing and preemption.
 *
 * <pre>{@code
 * try (Engine engine = new Engine(model, tokenizer, EngineOptions.defaults().kvMemory(1L << 30))) {
 *     CompletableFuture<Completion> f = engine.submit(Request.of("Once upon a time", GenerationConfig.greedy().maxNewTokens(32)));
 *     engine.stream(request).subscribe(subscriber);       // Flow.Publisher<GeneratedToken>
 *     for (Iterator<GeneratedToken> it = engine.iterate(request); it.hasNext(); ) print(it.next().text());
 * }
 * }</pre>
 * {@code future.cancel(true)} (or a request timeout) stops a request at the next step and frees its blocks.
 * {@link #close()} waits for running requests; {@link #closeNow()} cancels them.
 */
public final class Engine implements AutoCloseable {
    /** Per-request state the scheduler checks every iteration: cancellation and deadline. */
    static final class RequestContext {
        private final long deadline;
        private volatile boolean cancelled;

        RequestContext(long deadlineNanos) {
            this.deadline = deadlineNanos;
        }

        void cancel() {
            cancelled = true;
        }

        /** Why this request must stop now, or null. */
        RuntimeException failure() {
            if (cancelled) return new CancellationException("request cancelled");
            if (deadline != 0 && System.nanoTime() - deadline > 0)
                return new CortadoException("request deadline exceeded; raise its timeout or lower max_tokens");
            return null;
        }

        void check() {
            RuntimeException e = failure();
            if (e != null) throw e;
        }
    }

    private final DecoderModel model;
    private final Seq2SeqModel seq2seq;
    private final Tokenizer tokenizer;
    private final boolean ownsModel;
    private final KvPool pool;
    private final Scheduler scheduler;
    private final Thread schedulerThread;
    private final ExecutorService requests = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicLong order = new AtomicLong();
    private volatile boolean closed;

    /** An engine over a decoder-only model (closed with the engine when {@code ownsModel}). */
    public Engine(DecoderModel model, Tokenizer tokenizer, EngineOptions options, boolean ownsModel) {
        this(model, null, tokenizer, options, ownsModel);
    }

    public Engine(DecoderModel model, Tokenizer tokenizer, EngineOptions options) {
        this(model, null, tokenizer, options, false);
    }

    /**
     * An engine over an encoder-decoder model (T5, BART, Marian): a request's prompt is the source; the encoder runs
     * once per request and its cross-attention K/V live in the same pool as the decoder's self-attention K/V.
     */
    public Engine(Seq2SeqModel model, Tokenizer tokenizer, EngineOptions options, boolean ownsModel) {
        this(model.decoderModel(), model, tokenizer, options, ownsModel);
    }

    private Engine(DecoderModel model, Seq2SeqModel seq2seq, Tokenizer tokenizer, EngineOptions options, boolean ownsModel) {
        this.model = model;
        this.seq2seq = seq2seq;
        this.tokenizer = tokenizer;
        this.ownsModel = ownsModel;
        var d = model.decoder();
        if (!supports(model))
            throw new CortadoException("the serving engine does not run decoders with a relative position bias (T5) "
                    + "yet; run the model directly (Seq2SeqRunner / Generator)");
        if (seq2seq != null)
            for (var layer : d.layers())
                if (layer.crossAttention() == null || layer.crossAttention().kvHeads() != d.kvHeads()
                        || layer.crossAttention().headDim() != d.headDim())
                    throw new CortadoException("the serving engine needs cross-attention with the self-attention's "
                            + "heads and head size; run this model without the engine");
        int layers = d.layers().size(), blocksPerSeq = (d.maxPositions() + KvPool.BLOCK - 1) / KvPool.BLOCK;
        if (seq2seq != null) blocksPerSeq += (seq2seq.maxSourcePositions() + KvPool.BLOCK - 1) / KvPool.BLOCK;
        long perBlock = KvPool.bytesFor(layers, d.kvHeads(), d.headDim(), 1, model.backend());
        long bytes = options.kvMemoryBytes() > 0 ? options.kvMemoryBytes()
                : Math.min(1L << 30, perBlock * blocksPerSeq * options.kvSequences());
        long blocks = bytes / perBlock;
        if (blocks < 1)
            throw new CortadoException("kv memory of " + bytes + " bytes holds no KV block (one takes " + perBlock
                    + " bytes); raise --kv-memory");
        this.pool = new KvPool(model.backend(), layers, d.kvHeads(), d.headDim(), (int) Math.min(blocks, 1 << 24));
        this.scheduler = new Scheduler(model.backend(), seq2seq == null ? null : seq2seq.encoder(), d, pool, options);
        this.schedulerThread = Thread.ofPlatform().name("cortado-scheduler").daemon().start(scheduler);
    }

    /**
     * Whether the engine runs this model: its ragged batches give each row its own position, which T5's relative
     * position bias (one bias for all rows) does not support yet. Surfaces run such models directly.
     */
    public static boolean supports(DecoderModel model) {
        return model.decoder().positionBias() == null;
    }

    /** Submits a request; the future completes with its results, or fails with its one-line error. */
    public CompletableFuture<Completion> submit(Request request) {
        return submit(request, null);
    }

    /** As {@link #submit(Request)}, streaming each token to {@code onToken} (on the request's own thread). */
    public CompletableFuture<Completion> submit(Request request, Consumer<GeneratedToken> onToken) {
        if (closed) return CompletableFuture.failedFuture(new CortadoException("engine is closed"));
        final int[] prompt;
        final Source source;
        final GenerationConfig config;
        final RequestContext c;
        try {
            GenerationConfig given = request.config();
            config = (seq2seq != null ? given.encoderDecoder(true) : given).validate();
            int[] ids = promptIds(request, config);
            source = seq2seq != null ? Source.ids(checkSource(ids)) : null;
            if (seq2seq != null) Seq2SeqRunner.checkMaxNewTokens(config, model.maxPositions());
            prompt = seq2seq != null ? new int[0] : ids;
            checkFits(prompt, source, config);
            c = new RequestContext(request.timeout() == null ? 0 : System.nanoTime() + request.timeout().toNanos() | 1);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Completion> future = new CompletableFuture<>() {
            @Override
            public boolean cancel(boolean mayInterrupt) {
                c.cancel();
                return super.cancel(mayInterrupt);
            }
        };
        requests.execute(() -> {
            try {
                Generator g = new Generator(new RequestModel(c, source), tokenizer, config);
                List<GenerationResult> results = g.generateIds(new int[][] {prompt}, onToken);
                int generated = 0;
                for (GenerationResult r : results) generated += r.ids().length;
                future.complete(new Completion(results, source != null ? source.length() : prompt.length, generated));
            } catch (Throwable t) {
                future.completeExceptionally(t);
            }
        });
        return future;
    }

    /** Streams a request's tokens; the publisher completes after the last one, or fails with the request's error. */
    public Flow.Publisher<GeneratedToken> stream(Request request) {
        SubmissionPublisher<GeneratedToken> pub = new SubmissionPublisher<>(Runnable::run, Flow.defaultBufferSize());
        submit(request, pub::submit).whenComplete((c, e) -> {
            if (e != null) pub.closeExceptionally(e);
            else pub.close();
        });
        return pub;
    }

    /** A blocking iterator over a request's tokens, for simple callers; {@code next} rethrows the request's error. */
    public Iterator<GeneratedToken> iterate(Request request) {
        BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
        Object end = new Object();
        submit(request, queue::add).whenComplete((c, e) -> queue.add(e != null ? e : end));
        return new Iterator<>() {
            private Object next;

            @Override
            public boolean hasNext() {
                if (next == null) {
                    try {
                        next = queue.take();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new CancellationException("interrupted");
                    }
                }
                if (next instanceof Throwable t)
                    throw t instanceof RuntimeException re ? re : new CortadoException(t.getMessage(), t);
                return next != end;
            }

            @Override
            public GeneratedToken next() {
                if (!hasNext()) throw new NoSuchElementException();
                GeneratedToken t = (GeneratedToken) next;
                next = null;
                return t;
            }
        };
    }

    private int[] promptIds(Request request, GenerationConfig config) {
        if (request.promptIds() != null) return request.promptIds();
        if (tokenizer == null) throw new CortadoException("text prompts need the model's tokenizer.json; send token ids");
        return tokenizer.encode(request.prompt(), true).ids(); // a decoder prompt, or a seq2seq source: specials added
    }

    private int[] checkSource(int[] ids) {
        if (ids.length == 0) throw new CortadoException("the source is empty; send some text to translate or summarize");
        if (ids.length > seq2seq.maxSourcePositions())
            throw new CortadoException("the source has " + ids.length + " tokens but the encoder takes at most "
                    + seq2seq.maxSourcePositions() + "; shorten it");
        return ids;
    }

    /** Admission: a request whose worst case cannot fit the whole pool fails now instead of waiting forever. */
    private void checkFits(int[] prompt, Source source, GenerationConfig config) {
        int ctx = model.maxPositions();
        int rows = config.numBeams() > 1 ? config.numBeams() : config.sampling() ? config.numReturnSequences() : 1;
        int start = prompt.length + (config.encoderDecoder() ? 1 : 0);
        long limit = config.maxNewTokens() != null ? (long) start + config.maxNewTokens() : config.maxLength();
        long len = Math.min(Math.max(limit, start + 1L), ctx);
        long need = rows * ((len + KvPool.BLOCK - 1) / KvPool.BLOCK)
                + (source == null ? 0 : (source.length() + KvPool.BLOCK - 1) / KvPool.BLOCK);
        if (need > pool.capacity())
            throw new CortadoException("request needs up to " + need + " KV blocks (" + rows + " rows × " + len
                    + " positions" + (source == null ? "" : " + a " + source.length() + "-position source") + ") but the "
                    + "engine's KV pool holds " + pool.capacity() + "; raise --kv-memory or lower max_tokens/beams");
    }

    /**
     * The model as a plain {@link LanguageModel} whose sessions run in this engine's batches: a {@link Generator}
     * over it gives the same tokens as over the model, and concurrent generators share decode steps. Decoder-only.
     */
    public LanguageModel languageModel() {
        if (seq2seq != null) throw new CortadoException("a seq2seq engine takes requests with a source; use submit");
        return new RequestModel(new RequestContext(0), null);
    }

    /**
     * A seq2seq model's decoder bound to one {@code source}, as a plain {@link LanguageModel}: a {@link Generator}
     * over it (forced decoder prompt, the caller's logits processors) gives the same tokens as over the model bound
     * directly, while its steps, and the encoder run of its source, share the engine's batches with every other
     * request. Each session opened on it encodes the source once (again after a preemption); cancel through the
     * generator's thread (interrupt) or close the session.
     */
    public LanguageModel bind(Source source) {
        if (seq2seq == null) throw new CortadoException("a decoder-only engine has no encoder to bind a source to");
        if (closed) throw new CortadoException("engine is closed");
        if (source.length() < 1 || source.length() > seq2seq.maxSourcePositions())
            throw new CortadoException("the source has " + source.length() + " positions but the encoder takes 1 to "
                    + seq2seq.maxSourcePositions());
        return new RequestModel(new RequestContext(0), source);
    }

    /** The pool, for stats and tests (blocks in use, prefix hits). */
    public KvPool pool() {
        return pool;
    }

    /** Scheduler counters: iterations, decode rows, prefill tokens, preemptions. */
    public Stats stats() {
        return new Stats(scheduler.iterations.get(), scheduler.decodeRows.get(), scheduler.prefillTokens.get(),
                scheduler.encodedTokens.get(), scheduler.preemptions.get(), pool.inUse(), pool.capacity(), pool.prefixHits());
    }

    /**
     * Counters since the engine started: scheduler iterations, decode rows and prefill (and encoder) tokens computed,
     * preemptions; KV blocks in use of the pool's total; prompt-prefix blocks reused.
     */
    public record Stats(long iterations, long decodeRows, long prefillTokens, long encodedTokens, long preemptions,
                        int blocksInUse, int blocks, long prefixHits) {}

    /** Waits for running requests to finish, then frees the pool (and the model if owned). */
    @Override
    public void close() {
        shutdown(false);
    }

    /** Cancels running requests, then frees everything. */
    public void closeNow() {
        shutdown(true);
    }

    private synchronized void shutdown(boolean cancel) {
        if (closed && !schedulerThread.isAlive()) return;
        closed = true;
        requests.shutdown();
        if (cancel) requests.shutdownNow();
        try {
            requests.awaitTermination(1, TimeUnit.DAYS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        scheduler.stop();
        try {
            schedulerThread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pool.close();
        if (ownsModel) {
            if (seq2seq != null) seq2seq.close();
            else model.close();
        }
    }

    /** The model as one request sees it: sessions run in the engine's batches. */
    private final class RequestModel implements LanguageModel {
        private final RequestContext ctx;
        private final Source source;

        RequestModel(RequestContext ctx, Source source) {
            this.ctx = ctx;
            this.source = source;
        }

        @Override
        public int vocabSize() {
            return model.vocabSize();
        }

        @Override
        public int maxPositions() {
            return model.maxPositions();
        }

        @Override
        public DecoderSession newSession(int batch) {
            EngineSession s = new EngineSession(order.incrementAndGet(), ctx, scheduler, pool, batch, model.maxPositions(), source);
            scheduler.opened(s);
            return s;
        }
    }
}
