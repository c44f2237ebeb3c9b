package dev.cortado.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.generate.GenerationConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** OpenAI request bodies → GenerationConfig, and the resume scan of an output file (no model needed). */
class SamplingParamsTest {
    @TempDir Path tmp;

    static CompletionRequest completion(String json) throws Exception {
        return CompletionRequest.parse(ApiJson.MAPPER.readTree(json));
    }

    static GenerationConfig config(String json) throws Exception {
        return completion(json).params().forRequest(GenerationConfig.defaults().maxLength(512));
    }

    @Test
    void openAiKnobsMapOntoGenerationConfig() throws Exception {
        GenerationConfig c = config("{\"prompt\":\"x\",\"max_tokens\":7,\"temperature\":0,\"top_p\":0.5}");
        assertFalse(c.sampling(), "temperature 0 is greedy even with top_p");
        assertEquals(7, c.maxNewTokens());
        c = config("{\"prompt\":\"x\",\"temperature\":0.7,\"seed\":3,\"n\":2,\"stop\":\"\\n\",\"logprobs\":2,"
                + "\"presence_penalty\":0.5,\"frequency_penalty\":-0.5,\"logit_bias\":{\"5\":-100}}");
        assertTrue(c.sampling());
        assertEquals(0.7f, c.temperature());
        assertEquals(3, c.seed());
        assertEquals(2, c.numReturnSequences());
        assertEquals(List.of("\n"), c.stopStrings());
        assertEquals(2, c.logprobs());
        assertEquals(0.5f, c.presencePenalty());
        assertEquals(-0.5f, c.frequencyPenalty());
        assertEquals(Map.of(5, -100f), c.logitBias());
        c = config("{\"prompt\":\"x\",\"top_p\":0.9}");
        assertTrue(c.sampling(), "top_p alone samples at the model's temperature");
        c = config("{\"prompt\":\"x\",\"num_beams\":4,\"n\":3,\"stop\":[\"a\",\"b\"]}");
        assertEquals(4, c.numBeams());
        assertEquals(List.of("a", "b"), c.stopStrings());
        assertNull(completion("{\"prompt\":\"x\"}").params().maxTokens(), "the service applies the default by model kind");
    }

    @Test
    void samplingWithoutSeedDrawsAFreshSeedPerRequest() throws Exception {
        String noSeed = "{\"prompt\":\"x\",\"temperature\":0.7}";
        assertTrue(config(noSeed).seed() != config(noSeed).seed());
        String seeded = "{\"prompt\":\"x\",\"temperature\":0.7,\"seed\":42}";
        assertEquals(42, config(seeded).seed());
        assertEquals(config("{\"prompt\":\"x\"}").seed(), config("{\"prompt\":\"x\"}").seed(), "greedy needs no seed");
    }

    @Test
    void promptsAsTextListsAndTokenIds() throws Exception {
        assertEquals(2, completion("{\"prompt\":[\"a\",\"b\"]}").prompts().size());
        assertEquals(3, completion("{\"prompt\":[1,2,3]}").prompts().getFirst().ids().length);
        assertEquals(2, completion("{\"prompt\":[[1,2],[3]]}").prompts().size());
        ApiException e = assertThrows(ApiException.class, () -> completion("{\"prompt\":{}}"));
        assertTrue(e.getMessage().contains("'prompt' must be"), e.getMessage());
    }

    @Test
    void chatKnobs() throws Exception {
        ChatRequest r = ChatRequest.parse(ApiJson.MAPPER.readTree(
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_completion_tokens\":5,\"logprobs\":true}"));
        assertEquals(5, r.params().maxTokens());
        assertEquals(0, r.params().logprobs(), "logprobs: true = the chosen token's logprob only");
        ApiException e = assertThrows(ApiException.class, () -> ChatRequest.parse(ApiJson.MAPPER.readTree(
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[]}")));
        assertEquals("invalid_parameter", e.code());
        assertTrue(e.getMessage().contains("'tools' is an empty list"), e.getMessage());
    }

    @Test
    void resumeDropsATruncatedLastLineAndReadsCustomIds() throws Exception {
        Path out = tmp.resolve("out.jsonl");
        String full = ApiJson.write(BatchOutput.failure("a", "x", "y")) + "\n" + ApiJson.write(BatchOutput.success("b", Map.of())) + "\n";
        Files.writeString(out, full + "{\"id\":\"batch_req_1\",\"custom_id\":\"c", StandardCharsets.UTF_8);
        assertEquals(Set.of("a", "b"), BatchJob.resume(out));
        assertEquals(full, Files.readString(out));
        Files.writeString(out, "{\"custom_id\":\"d\"");
        assertEquals(Set.of(), BatchJob.resume(out));
        assertEquals(0, Files.size(out));
    }
}
