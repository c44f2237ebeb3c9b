package dev.cortado.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.constraint.Constraint;
import dev.cortado.registry.Families;
import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Constrained requests in the serving engine's batched decode: 24 concurrent requests mixing JSON schema, regex,
 * choice and unconstrained ones (greedy, sampling, beam) each give the tokens of the same request run alone, and
 * every constrained output is in its language.
 */
class ConstrainedEngineTest {
    @Test
    void concurrentConstrainedRequestsGiveTheTokensOfEachAlone() throws Exception {
        Path dir = Shared.require("models/stories260K");
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        List<Constraint> constraints = List.of(
                Constraint.jsonSchema("{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":10},"
                        + "\"n\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":50}},\"required\":[\"name\",\"n\"]}"),
                Constraint.regex("[A-Z][a-z]+ (ran|sat) [0-9]{2}"),
                Constraint.choice(List.of("happy", "sad", "a dog")));
        String[] prompts = {"Once upon a time", "Tom had a", "The sun was", "Lily was"};
        try (DecoderModel model = (DecoderModel) Families.openDecoder(dir, new CpuBackend(), Families.Engine.CORTADO);
             Engine engine = new Engine(model, tok, EngineOptions.defaults())) {
            List<Request> reqs = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                GenerationConfig c = switch (i % 4) {
                    case 0 -> GenerationConfig.greedy();
                    case 1 -> GenerationConfig.sampling(0.9f).seed(i).numReturnSequences(2);
                    case 2 -> GenerationConfig.beam(3).numReturnSequences(2);
                    default -> GenerationConfig.sampling(1f).topK(0).seed(i);
                };
                c = c.maxNewTokens(80).eosTokenId(2).bosTokenId(1);
                if (i % 6 != 5) c = c.constraint(constraints.get(i % 3));
                reqs.add(Request.of(prompts[i % prompts.length], c));
            }
            List<CompletableFuture<Completion>> fs = new ArrayList<>();
            for (Request r : reqs) fs.add(engine.submit(r));
            for (int i = 0; i < reqs.size(); i++) {
                Request r = reqs.get(i);
                List<GenerationResult> got = fs.get(i).get().results();
                List<GenerationResult> want = new Generator(model, tok, r.config()).generateBatch(List.of(r.prompt()));
                assertEquals(want.size(), got.size());
                for (int j = 0; j < want.size(); j++) {
                    assertArrayEquals(want.get(j).ids(), got.get(j).ids(), "request " + i);
                    assertEquals(want.get(j).text(), got.get(j).text());
                    Constraint c = r.config().constraint();
                    if (c != null && got.get(j).finishReason() != dev.cortado.generate.FinishReason.LENGTH)
                        assertTrue(c.matches(got.get(j).text()), c.describe() + " gave " + got.get(j).text());
                }
            }
        }
    }
}
