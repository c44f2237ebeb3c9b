package dev.cortado.cli;

import static dev.cortado.cli.CliErrorsTest.assertOneLineError;
import static dev.cortado.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.generate.GenerationConfig;
import dev.cortado.runtime.Cortado;
import dev.cortado.testing.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code generate}/{@code info} and the facade on GGUF files (models/fixtures/gguf). */
class GgufCliTest {
    static final String F32 = "models/fixtures/gguf/stories260K-f32.gguf", Q8 = "models/fixtures/gguf/stories260K-q8_0.gguf";

    @Test
    void generateFromGgufEqualsTheSafetensorsModel() {
        CliErrorsTest.Run g = run("generate", "--model", F32, "--prompt", "Once upon a time", "--max-tokens", "30");
        assertEquals(0, g.code(), g.err());
        CliErrorsTest.Run ref = run("generate", "--model", Shared.require("models/stories260K").toString(), "--prompt", "Once upon a time", "--max-tokens", "30");
        assertEquals(ref.out(), g.out());
        CliErrorsTest.Run q = run("generate", "--model", Q8, "--prompt", "Once upon a time", "--max-tokens", "30", "--json");
        assertEquals(0, q.code(), q.err());
        assertTrue(q.out().contains("\"text\""), q.out());
    }

    @Test
    void infoShowsArchitectureAndTensorTypes() {
        CliErrorsTest.Run r = run("info", "--model", Q8);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("a decoder-only language model"), r.out());
        assertTrue(r.out().contains("architecture llama"), r.out());
        assertTrue(r.out().contains("47 {F32=11, F16=5, Q8_0=31}"), r.out());
        assertTrue(r.out().contains("tokenizer: llama (512 tokens"), r.out());
        assertTrue(r.out().contains("llama (llama, gguf)"), r.out());
    }

    @Test
    void badGgufIsOneLineExitTwo(@TempDir Path tmp) throws Exception {
        Path bad = tmp.resolve("bad.gguf");
        Files.write(bad, java.util.Arrays.copyOf(Files.readAllBytes(Path.of(Q8)), 5000));
        assertOneLineError(run("generate", "--model", bad.toString(), "--prompt", "x"), "truncated");
        assertOneLineError(run("info", "--model", bad.toString()), "truncated");
        assertOneLineError(run("generate", "--model", Q8, "--prompt", "x", "--engine", "ort"), "GGUF");
    }

    /** batch: a chat completion on a GGUF uses the chat template from its metadata; the model is named after the file. */
    @Test
    void batchChatOnGguf(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("in.jsonl"), out = tmp.resolve("out.jsonl");
        Files.writeString(in, "{\"custom_id\":\"c1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"messages\":"
                + "[{\"role\":\"user\",\"content\":\"Once upon a time\"}],\"max_tokens\":8,\"temperature\":0}}\n");
        CliErrorsTest.Run r = run("batch", "--model", Q8, "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        String line = Files.readString(out);
        assertTrue(line.contains("\"status_code\":200") && line.contains("\"model\":\"stories260K-q8_0\""), line);
        // the template renders "<s>Once upon a time": the prompt is the BOS token plus the story opening
        assertTrue(line.contains("\"prompt_tokens\":5"), line);
    }

    @Test
    void facadeOpensGguf() {
        String cli = run("generate", "--model", Q8, "--prompt", "Once upon a time", "--max-tokens", "20").out().strip();
        try (Cortado rt = Cortado.open(Path.of(Q8))) {
            StringBuilder sb = new StringBuilder();
            rt.generator(GenerationConfig.greedy().maxNewTokens(20)).generate("Once upon a time", t -> sb.append(t.text()));
            assertEquals(cli, sb.toString().strip());
            assertFalse(cli.isEmpty());
        }
    }
}
