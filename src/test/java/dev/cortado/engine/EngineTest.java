package dev.cortado.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.GeneratedToken;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.TokenLogprob;
import dev.cortado.registry.Families;
import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The serving engine on stories260K: every completed request gives the tokens of the same request run alone
 * through {@link Generator} on the model (whose greedy/beam/logprob outputs are checked against llama2.c and
 * transformers in Stories260KTest / Stories260KGenerationTest), under concurrency, cancellation, prefix sharing
 * and memory pressure.
 */
class EngineTest {
    private static DecoderModel model;
    private static Tokenizer tok;

    @BeforeAll
    static void open() {
        Path dir = Shared.require("models/stories260K");
        model = (DecoderModel) Families.openDecoder(dir, new CpuBackend(), Families.Engine.CORTADO);
        tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    private static final String[] PROMPTS = {
        "Once upon a time", "Lily and Tom went to the park. They saw a big dog.", "One day",
        "The sun was shining and the birds were singing. A little girl named Sue wanted to play outside with her friends, "
                + "but her mom said she had to clean her room first.", "Tim had a red ball",
        "There was a cat", "Sam liked to eat apples. Every morning he"};

    private static Request request(int i) {
        String prompt = PROMPTS[i % PROMPTS.length];
        int max = 8 + (i * 7) % 40;
        GenerationConfig c = switch (i % 5) {
            case 0 -> GenerationConfig.greedy().maxNewTokens(max);
            case 1 -> GenerationConfig.sampling(0.8f).topK(20).seed(i).numReturnSequences(1 + i % 2).maxNewTokens(max);
            case 2 -> GenerationConfig.beam(4).numReturnSequences(2).maxNewTokens(Math.min(max, 20));
            case 3 -> GenerationConfig.greedy().maxNewTokens(max).stopStrings(".");
            default -> GenerationConfig.greedy().maxNewTokens(max).logprobs(3);
        };
        return Request.of(prompt, c.eosTokenId(2).bosTokenId(1));
    }

    private static List<GenerationResult> alone(Request r) {
        return new Generator(model, tok, r.config()).generateBatch(List.of(r.prompt()));
    }

    /** Same tokens, text and finish reason; scores and logprobs within float noise (batched vs single GEMM). */
    static void assertSame(List<GenerationResult> want, List<GenerationResult> got, String what) {
        assertEquals(want.size(), got.size(), what);
        for (int i = 0; i < want.size(); i++) {
            GenerationResult w = want.get(i), g = got.get(i);
            assertArrayEquals(w.ids(), g.ids(), what + " result " + i);
            assertEquals(w.text(), g.text(), what);
            assertEquals(w.finishReason(), g.finishReason(), what);
            assertEquals(w.score(), g.score(), 1e-3, what);
            assertEquals(w.logprobs().size(), g.logprobs().size(), what);
            for (int t = 0; t < w.logprobs().size(); t++) {
                TokenLogprob a = w.logprobs().get(t), b = g.logprobs().get(t);
                assertEquals(a.id(), b.id(), what);
                assertEquals(a.logprob(), b.logprob(), 1e-3, what);
            }
        }
    }

    @Test
    void concurrentMixedRequestsGiveTheTokensOfEachRequestAlone() throws Exception {
        int n = 64;
        List<List<GenerationResult>> want = new ArrayList<>();
        for (int i = 0; i < n; i++) want.add(alone(request(i)));
        try (Engine engine = new Engine(model, tok, EngineOptions.defaults().tokenBudget(64))) {
            List<CompletableFuture<Completion>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) futures.add(null);
            ExecutorService clients = Executors.newFixedThreadPool(16);
            for (int t = 0; t < 16; t++) {
                int thread = t;
                clients.execute(() -> {
                    for (int i = thread; i < n; i += 16) {
                        // every ninth request is cancelled midway, from its own token stream after 3 tokens
                        var self = new java.util.concurrent.atomic.AtomicReference<CompletableFuture<Completion>>();
                        var seen = new java.util.concurrent.atomic.AtomicInteger();
                        boolean cancel = i % 9 == 4;
                        CompletableFuture<Completion> f = engine.submit(request(i), token -> {
                            if (cancel && seen.incrementAndGet() == 3) {
                                while (self.get() == null) Thread.onSpinWait();
                                self.get().cancel(true);
                            }
                        });
                        self.set(f);
                        synchronized (futures) {
                            futures.set(i, f);
                        }
                    }
                });
            }
            clients.shutdown();
            assertTrue(clients.awaitTermination(60, TimeUnit.SECONDS));
            int cancelled = 0;
            for (int i = 0; i < n; i++) {
                CompletableFuture<Completion> f = futures.get(i);
                try {
                    Completion c = f.get(120, TimeUnit.SECONDS);
                    assertSame(want.get(i), c.results(), "request " + i);
                    int generated = want.get(i).stream().mapToInt(r -> r.ids().length).sum();
                    assertEquals(generated, c.completionTokens());
                    assertEquals(tok.encode(request(i).prompt(), true).ids().length, c.promptTokens());
                } catch (CancellationException e) {
                    assertEquals(4, i % 9, "only the cancelled requests may end cancelled");
                    cancelled++;
                }
            }
            assertTrue(cancelled > 0);
            awaitIdle(engine);
            assertEquals(0, engine.pool().inUse(), "every request's blocks are back in the pool");
            Engine.Stats s = engine.stats();
            assertTrue(s.decodeRows() > s.iterations(), "decode steps were batched: " + s);
        }
    }

    /** Sessions free their blocks right after their futures complete; wait for the last ones. */
    private static void awaitIdle(Engine engine) throws InterruptedException {
        for (int i = 0; i < 500 && engine.pool().inUse() > 0; i++) Thread.sleep(10);
    }

    private record Run(List<List<GenerationResult>> results, long allocated, long hits) {}

    /** The first request alone (it fills the prefix cache), then the others together; blocks allocated after the first. */
    private static Run runAll(List<Request> reqs, EngineOptions options) throws Exception {
        List<List<GenerationResult>> out = new ArrayList<>();
        try (Engine engine = new Engine(model, tok, options)) {
            out.add(engine.submit(reqs.getFirst()).get().results());
            long before = engine.pool().allocations();
            List<CompletableFuture<Completion>> fs = new ArrayList<>();
            for (Request r : reqs.subList(1, reqs.size())) fs.add(engine.submit(r));
            for (var f : fs) out.add(f.get().results());
            return new Run(out, engine.pool().allocations() - before, engine.pool().prefixHits());
        }
    }

    @Test
    void sharedPromptPrefixIsComputedOnce() throws Exception {
        StringBuilder prefix = new StringBuilder();
        while (tok.encode(prefix.toString(), true).ids().length < 200) prefix.append("Lily saw a big red ball in the park. ");
        int prefixBlocks = (tok.encode(prefix.toString(), true).ids().length - 1) / 16;
        List<Request> reqs = new ArrayList<>();
        for (int i = 0; i < 32; i++)
            reqs.add(Request.of(prefix + PROMPTS[i % PROMPTS.length], GenerationConfig.greedy().maxNewTokens(8).eosTokenId(2)));
        Run shared = runAll(reqs, EngineOptions.defaults()), unshared = runAll(reqs, EngineOptions.defaults().prefixSharing(false));
        for (int i = 0; i < 32; i++) {
            assertSame(unshared.results().get(i), shared.results().get(i), "request " + i);
            assertSame(alone(reqs.get(i)), shared.results().get(i), "request " + i);
        }
        assertTrue(prefixBlocks >= 12, "prefix spans " + prefixBlocks + " full blocks");
        // every later request takes at least the common prefix's blocks from the cache (more where whole prompts repeat)
        assertTrue(shared.hits() >= 31L * prefixBlocks, shared.hits() + " prefix-cache hits");
        // and each block a request needs is either taken from the cache or allocated, never both
        assertEquals(unshared.allocated(), shared.allocated() + shared.hits(), "shared prefix blocks are not allocated again");
    }

    @Test
    void requestsBeyondTheKvBudgetWaitOrArePreemptedAndStillGiveTheSameTokens() throws Exception {
        // 4 sequences of up to 96 positions (6 blocks each) fit: 24 blocks
        long perBlock = dev.cortado.kv.KvPool.bytesFor(5, 4, 8, 1, model.backend());
        List<Request> reqs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            GenerationConfig c = i % 4 == 3 ? GenerationConfig.beam(2).maxNewTokens(40)
                    : GenerationConfig.greedy().maxNewTokens(40 + i % 3 * 8);
            reqs.add(Request.of(PROMPTS[i % PROMPTS.length], c.eosTokenIds(List.of())));
        }
        try (Engine engine = new Engine(model, tok, EngineOptions.defaults().kvMemory(24 * perBlock).prefixSharing(false))) {
            assertEquals(24, engine.pool().capacity());
            List<CompletableFuture<Completion>> fs = new ArrayList<>();
            for (Request r : reqs) fs.add(engine.submit(r));
            for (int i = 0; i < reqs.size(); i++) assertSame(alone(reqs.get(i)), fs.get(i).get(120, TimeUnit.SECONDS).results(), "request " + i);
            assertTrue(engine.stats().preemptions() > 0, "the pool was too small for all at once: " + engine.stats());
            // a preemption happens only when every block is referenced: the pool's peak is then its capacity
            assertEquals(24, engine.pool().peakInUse());
            awaitIdle(engine);
            assertEquals(0, engine.pool().inUse());
        }
    }

    @Test
    void streamingIteratorGivesTheSameTokensAsTheCompletion() {
        Request r = Request.of("Once upon a time", GenerationConfig.greedy().maxNewTokens(24).eosTokenId(2));
        try (Engine engine = new Engine(model, tok, EngineOptions.defaults())) {
            StringBuilder text = new StringBuilder();
            List<Integer> ids = new ArrayList<>();
            for (Iterator<GeneratedToken> it = engine.iterate(r); it.hasNext(); ) {
                GeneratedToken t = it.next();
                text.append(t.text());
                ids.add(t.id());
            }
            GenerationResult want = alone(r).getFirst();
            assertEquals(want.text(), text.toString());
            assertArrayEquals(want.ids(), ids.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    @Test
    void badRequestsFailWithOneLine() throws Exception {
        try (Engine engine = new Engine(model, tok, EngineOptions.defaults().kvMemory(dev.cortado.kv.KvPool.bytesFor(5, 4, 8, 8, model.backend())))) {
            ExecutionException tooBig = assertThrows(ExecutionException.class, () -> engine.submit(
                    Request.of("Once upon a time", GenerationConfig.greedy().maxNewTokens(400))).get());
            assertTrue(tooBig.getCause() instanceof CortadoException);
            assertTrue(tooBig.getCause().getMessage().contains("KV pool holds 8"), tooBig.getCause().getMessage());
            ExecutionException bad = assertThrows(ExecutionException.class, () -> engine.submit(
                    Request.of("Once upon a time", GenerationConfig.greedy().maxNewTokens(4).topK(-3))).get());
            assertTrue(bad.getCause() instanceof CortadoException, String.valueOf(bad.getCause()));
            ExecutionException late = assertThrows(ExecutionException.class, () -> engine.submit(
                    Request.of("Once upon a time", GenerationConfig.greedy().maxNewTokens(100).eosTokenIds(List.of()))
                            .withTimeout(Duration.ofNanos(1))).get());
            assertTrue(late.getCause().getMessage().contains("deadline exceeded"), late.getCause().getMessage());
        }
    }
}
