package dev.cortado.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.engine.DefaultModels;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gets one clear error line naming the problem, exit code 2, no stack trace, no crash. */
class CliErrorsTest {
    @TempDir Path tmp;

    record Run(int code, String out, String err) {
        /** The run with stderr's "cortado: warning:" lines left out (errors are checked on their own). */
        Run withoutWarnings() {
            return new Run(code, out, String.join("\n", err.lines().filter(l -> !l.startsWith("cortado: warning:")).toList()));
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    static Run runWithStdin(byte[] stdin, String... args) {
        InputStream old = System.in;
        System.setIn(new ByteArrayInputStream(stdin));
        try {
            return run(args);
        } finally {
            System.setIn(old);
        }
    }

    static void assertOneLineError(Run r, String mustContain) {
        assertEquals(2, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "expected one error line, got:\n" + r.err());
        assertTrue(lines[0].contains(mustContain), "error should mention '" + mustContain + "': " + lines[0]);
        assertFalse(r.err().contains("\tat "), "no stack trace without --debug");
    }

    private Path modelCopy(byte[] onnx) throws Exception {
        Path d = Files.createDirectories(tmp.resolve("m" + System.nanoTime()));
        Files.write(d.resolve("model.onnx"), onnx);
        Files.copy(DefaultModels.minilm().resolve("tokenizer.json"), d.resolve("tokenizer.json"));
        return d;
    }

    @Test
    void missingModelFile() {
        assertOneLineError(run("embed", "--model", tmp.resolve("nope/model.onnx").toString(), "x"), "not found");
    }

    @Test
    void truncatedModelFile() throws Exception {
        byte[] all = Files.readAllBytes(DefaultModels.minilm().resolve("model.onnx"));
        Path d = modelCopy(java.util.Arrays.copyOf(all, all.length / 2));
        assertOneLineError(run("embed", "--model", d.toString(), "x"), "model.onnx");
    }

    @Test
    void bitFlippedModelFileNeverCrashes() throws Exception {
        byte[] all = Files.readAllBytes(DefaultModels.minilm().resolve("model.onnx"));
        Random r = new Random(7);
        for (int trial = 0; trial < 4; trial++) {
            byte[] b = all.clone();
            for (int i = 0; i < 16; i++) b[r.nextInt(4096)] ^= (byte) (1 << r.nextInt(8));
            Run res = run("embed", "--model", modelCopy(b).toString(), "x");
            assertTrue(res.code() == 0 || res.code() == 2, "exit " + res.code());
            if (res.code() == 2) assertOneLineError(res, "");
        }
    }

    @Test
    void unknownOpIsNamed() throws Exception {
        // the MiniLM with its Erf nodes renamed Erx (NodeProto.op_type: field 4, length 3)
        byte[] b = Files.readAllBytes(DefaultModels.minilm().resolve("model.onnx"));
        int renamed = 0;
        for (int i = 0; i + 4 < b.length; i++) {
            if (b[i] == 0x22 && b[i + 1] == 3 && b[i + 2] == 'E' && b[i + 3] == 'r' && b[i + 4] == 'f') {
                b[i + 4] = 'x';
                renamed++;
            }
        }
        assertTrue(renamed > 0);
        assertOneLineError(run("embed", "--model", modelCopy(b).toString(), "x"), "Erx");
    }

    @Test
    void tokenizerWithMissingField() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode tok = (ObjectNode) json.readTree(DefaultModels.minilm().resolve("tokenizer.json").toFile());
        tok.remove("model");
        Path d = Files.createDirectories(tmp.resolve("badtok"));
        Files.createSymbolicLink(d.resolve("model.onnx"), DefaultModels.minilm().resolve("model.onnx"));
        json.writeValue(d.resolve("tokenizer.json").toFile(), tok);
        assertOneLineError(run("embed", "--model", d.toString(), "x"), "model");
    }

    @Test
    void invalidUtf8OnStdin() {
        byte[] bad = {'o', 'k', '\n', 'b', 'a', (byte) 0xC3, (byte) 0x28, '\n'};
        assertOneLineError(runWithStdin(bad, "embed"), "invalid UTF-8");
    }

    @Test
    void nonsenseKnobs() {
        assertOneLineError(run("embed", "--pooling", "max", "x"), "pooling");
        assertOneLineError(run("embed", "--engine", "tensorflow", "x"), "engine");
        assertOneLineError(run("embed", "--batch-size", "0", "x"), "batch-size");
    }

    @Test
    void embedPrintsJsonLines() throws Exception {
        Run r = run("embed", "hello world", "second");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(2, lines.length);
        var node = new ObjectMapper().readTree(lines[0]);
        assertEquals("hello world", node.get("text").asText());
        assertEquals(384, node.get("embedding").size());
    }
}
