package dev.cortado.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.registry.Families;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Seq2seq through the serving engine (Cortado's EN→DE Marian model, whose outputs DefaultModelGoldensTest checks
 * against transformers): concurrent translations, greedy and beam 4, give the tokens of the same source run alone
 * through {@link Seq2SeqRunner}; the encoder runs once per request; blocks return to the pool.
 */
class Seq2SeqEngineTest {
    private static final Path DIR = Path.of("models/cortado-en-de");
    private static Seq2SeqModel model;
    private static Tokenizer tok;

    @BeforeAll
    static void open() {
        model = (Seq2SeqModel) Families.openSeq2Seq(DIR, new CpuBackend(), Families.Engine.CORTADO);
        tok = Tokenizer.fromFile(DIR.resolve("tokenizer.json"));
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    private static final List<String> SOURCES = List.of(
            "This package contains the documentation.",
            "This package contains the development files for the library.",
            "GNU C Library: shared libraries",
            "A small tool to convert images between formats, with support for PNG, JPEG and GIF.",
            "Python bindings for the library",
            "This is a transitional package. It can safely be removed.",
            "Library for reading and writing compressed files",
            "Documentation for the command line interface");

    @Test
    void concurrentTranslationsEqualEachSourceAlone() throws Exception {
        GenerationConfig base = GenerationConfig.fromFile(DIR.resolve("generation_config.json")).maxNewTokens(40);
        List<GenerationConfig> configs = List.of(base.numBeams(1), base.numBeams(4), base.numBeams(4).numReturnSequences(2));
        List<Request> reqs = new ArrayList<>();
        List<List<GenerationResult>> want = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            GenerationConfig c = configs.get(i % configs.size());
            String src = SOURCES.get(i % SOURCES.size());
            reqs.add(Request.of(src, c));
            want.add(new Seq2SeqRunner(model, tok, c, false, w -> {}).run(List.of(src)));
        }
        try (Engine engine = new Engine(model, tok, EngineOptions.defaults(), false)) {
            List<CompletableFuture<Completion>> fs = new ArrayList<>(java.util.Collections.nCopies(reqs.size(), null));
            var clients = java.util.concurrent.Executors.newFixedThreadPool(16);
            for (int t = 0; t < 16; t++) {
                int thread = t;
                clients.execute(() -> {
                    for (int i = thread; i < reqs.size(); i += 16) {
                        CompletableFuture<Completion> f = engine.submit(reqs.get(i));
                        synchronized (fs) {
                            fs.set(i, f);
                        }
                        if (i % 7 == 3) f.cancel(true);
                    }
                });
            }
            clients.shutdown();
            assertTrue(clients.awaitTermination(60, TimeUnit.SECONDS));
            long sourceTokens = 0;
            int cancelled = 0;
            for (int i = 0; i < reqs.size(); i++) {
                try {
                    Completion c = fs.get(i).get(120, TimeUnit.SECONDS);
                    EngineTest.assertSame(want.get(i), c.results(), "request " + i);
                    assertEquals(tok.encode(SOURCES.get(i % SOURCES.size()), true).ids().length, c.promptTokens());
                    sourceTokens += c.promptTokens();
                } catch (java.util.concurrent.CancellationException e) {
                    assertEquals(3, i % 7, "only the cancelled requests end cancelled");
                    cancelled++;
                }
            }
            assertTrue(cancelled > 0);
            Engine.Stats s = engine.stats();
            assertTrue(s.encodedTokens() >= sourceTokens && s.encodedTokens() <= sourceTokens + cancelled * 40L,
                    "each completed source is encoded once (no preemption here): " + s);
            assertEquals(0, s.preemptions());
            assertTrue(s.decodeRows() > s.iterations(), "decode steps were batched: " + s);
            for (int i = 0; i < 500 && engine.pool().inUse() > 0; i++) Thread.sleep(10);
            assertEquals(0, engine.pool().inUse());
        }
    }

    @Test
    void translationsUnderMemoryPressureAreUnchanged() throws Exception {
        GenerationConfig greedy = GenerationConfig.fromFile(DIR.resolve("generation_config.json")).numBeams(1).maxNewTokens(32);
        var d = model.decoderModel().decoder();
        long perBlock = dev.cortado.kv.KvPool.bytesFor(d.layers().size(), d.kvHeads(), d.headDim(), 1, model.decoderModel().backend());
        try (Engine engine = new Engine(model, tok, EngineOptions.defaults().kvMemory(10 * perBlock).prefixSharing(false), false)) {
            List<CompletableFuture<Completion>> fs = new ArrayList<>();
            for (String s : SOURCES) fs.add(engine.submit(Request.of(s, greedy)));
            for (int i = 0; i < SOURCES.size(); i++)
                EngineTest.assertSame(new Seq2SeqRunner(model, tok, greedy, false, w -> {}).run(List.of(SOURCES.get(i))),
                        fs.get(i).get(120, TimeUnit.SECONDS).results(), "source " + i);
            assertTrue(engine.stats().preemptions() > 0, "10 blocks cannot hold 8 translations at once: " + engine.stats());
        }
    }

    /** BART and Marian fixtures (transformers-checked in Seq2SeqFixturesTest) through the engine = alone, id level. */
    @Test
    void fixtureModelsThroughTheEngineEqualTheModelAlone() throws Exception {
        for (String name : List.of("tiny-bart", "tiny-marian")) {
            Path dir = dev.cortado.testing.Fixtures.ROOT.resolve(name);
            try (Seq2SeqModel m = (Seq2SeqModel) Families.openSeq2Seq(dir, new CpuBackend(), Families.Engine.CORTADO)) {
                GenerationConfig base = GenerationConfig.fromFile(dir.resolve("generation_config.json")).maxNewTokens(12)
                        .encoderDecoder(true);
                java.util.Random rnd = new java.util.Random(7);
                List<int[]> sources = new ArrayList<>();
                for (int i = 0; i < 12; i++) {
                    int[] src = new int[3 + rnd.nextInt(20)];
                    for (int j = 0; j < src.length; j++) src[j] = 4 + rnd.nextInt(m.vocabSize() - 4);
                    sources.add(src);
                }
                try (Engine engine = new Engine(m, null, EngineOptions.defaults(), false)) {
                    List<CompletableFuture<Completion>> fs = new ArrayList<>();
                    for (int i = 0; i < sources.size(); i++)
                        fs.add(engine.submit(Request.ofIds(sources.get(i), base.numBeams(i % 2 == 0 ? 1 : 3))));
                    for (int i = 0; i < sources.size(); i++) {
                        GenerationConfig c = base.numBeams(i % 2 == 0 ? 1 : 3);
                        int[] src = sources.get(i);
                        boolean[][] valid = {new boolean[src.length]};
                        java.util.Arrays.fill(valid[0], true);
                        var alone = new dev.cortado.generate.Generator(m.bind(m.encode(new int[][] {src}, valid),
                                c.numBeams()), null, c).generateIds(new int[1][0]);
                        EngineTest.assertSame(alone, fs.get(i).get(60, TimeUnit.SECONDS).results(), name + " source " + i);
                    }
                }
            }
        }
    }

    @Test
    void t5RelativePositionBiasIsRefusedByTheEngineAndRunsDirectly() {
        Path dir = dev.cortado.testing.Fixtures.ROOT.resolve("tiny-t5");
        try (Seq2SeqModel m = (Seq2SeqModel) Families.openSeq2Seq(dir, new CpuBackend(), Families.Engine.CORTADO)) {
            assertTrue(!Engine.supports(m.decoderModel()));
            var e = org.junit.jupiter.api.Assertions.assertThrows(dev.cortado.CortadoException.class,
                    () -> new Engine(m, null, EngineOptions.defaults(), false));
            assertTrue(e.getMessage().contains("relative position bias (T5)"), e.getMessage());
        }
    }
}
