package dev.cortado.cli;

import static dev.cortado.cli.CliErrorsTest.assertOneLineError;
import static dev.cortado.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.testing.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `cortado generate` on stories260K: output shapes checked against llama2.c's goldens; bad knobs give one error. */
class GenerateCliTest {
    @TempDir Path tmp;

    String model() {
        return Shared.require("models/stories260K").toString();
    }

    @Test
    void plainAndJsonOutputMatchLlama2cGolden() throws Exception {
        JsonNode g = new ObjectMapper().readTree(Shared.require("models/stories260K/goldens.json").toFile()).get("prompt_greedy").get(0);
        CliErrorsTest.Run r = run("generate", "--model", model(), "--prompt", "Once upon a time", "--max-tokens", "60");
        assertEquals(0, r.code(), r.err());
        assertEquals(g.get("new_text").asText(), r.out().stripTrailing());
        r = run("generate", "--model", model(), "--prompt", "Once upon a time", "--max-tokens", "5", "--json", "--logprobs", "3");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("length", j.get("finish_reason").asText());
        for (int i = 0; i < 5; i++) assertEquals(g.get("new_ids").get(i).asInt(), j.get("ids").get(i).asInt());
        assertEquals(3, j.get("logprobs").get(0).get("top").size());
        assertTrue(j.get("logprobs").get(0).get("logprob").asDouble() <= 0);
    }

    @Test
    void sameSeedSameText() {
        String[] a = {"generate", "--model", model(), "--prompt", "Once upon a time", "--max-tokens", "30", "--temperature", "0.9", "--seed", "11"};
        CliErrorsTest.Run r1 = run(a), r2 = run(a);
        assertEquals(0, r1.code(), r1.err());
        assertEquals(r1.out(), r2.out());
    }

    @Test
    void badKnobs() {
        String m = model();
        assertOneLineError(run("generate", "--model", m, "--prompt", "x", "--temperature", "-1"), "temperature");
        assertOneLineError(run("generate", "--model", m, "--prompt", "x", "--top-p", "1.5"), "top_p");
        assertOneLineError(run("generate", "--model", m, "--prompt", "x", "--max-tokens", "-1"), "max_new_tokens");
        assertOneLineError(run("generate", "--model", m, "--prompt", "x", "--beams", "0"), "num_beams");
        assertOneLineError(run("generate", "--model", m, "--prompt", "x", "--engine", "tf"), "engine");
        assertOneLineError(run("generate", "--model", m, "--prompt", "Once upon a time ".repeat(200)), "context");
    }

    @Test
    void modelFolderWithoutConfig() throws Exception {
        Path d = Files.createDirectories(tmp.resolve("noconfig"));
        Files.copy(Shared.require("models/stories260K/onnx/model.onnx"), d.resolve("model.onnx"));
        Files.copy(Shared.require("models/stories260K/tokenizer.json"), d.resolve("tokenizer.json"));
        assertOneLineError(run("generate", "--model", d.toString(), "--prompt", "x"), "config.json");
    }
}
