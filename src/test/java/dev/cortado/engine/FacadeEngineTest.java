package dev.cortado.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.runtime.Cortado;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.registry.Families;
import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The {@link Cortado} facade runs through its engine: 8 threads sharing one instance are batched, tokens unchanged. */
class FacadeEngineTest {
    @Test
    void threadsSharingOneInstanceAreBatchedWithUnchangedTokens() throws Exception {
        Path dir = Shared.require("models/stories260K");
        GenerationConfig cfg = GenerationConfig.greedy().maxNewTokens(48).eosTokenId(2).bosTokenId(1);
        List<String> prompts = List.of("Once upon a time", "One day", "Tim had a red ball", "There was a cat",
                "Lily and Tom went to the park.", "The sun was shining", "Sam liked to eat apples.", "A little bird");
        List<GenerationResult> want = new ArrayList<>();
        try (var model = Families.openDecoder(dir, new CpuBackend(), Families.Engine.CORTADO)) {
            Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
            for (String p : prompts) want.add(new Generator(model, tok, cfg).generate(p));
        }
        try (Cortado rt = Cortado.open(dir)) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<GenerationResult>> got = new ArrayList<>();
            for (String p : prompts) got.add(pool.submit(() -> rt.generator(cfg).generate(p)));
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(want.get(i).ids(), got.get(i).get().ids(), prompts.get(i));
                assertEquals(want.get(i).text(), got.get(i).get().text());
            }
            pool.shutdown();
            Engine.Stats s = rt.engine().stats();
            assertTrue(s.decodeRows() > 2 * s.iterations(), "8 threads' decode steps share iterations: " + s);
        }
    }
}
