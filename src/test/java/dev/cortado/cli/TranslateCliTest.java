package dev.cortado.cli;

import static dev.cortado.cli.CliErrorsTest.assertOneLineError;
import static dev.cortado.cli.CliErrorsTest.run;
import static dev.cortado.cli.CliErrorsTest.runWithStdin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.engine.Seq2SeqRunner;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.registry.Families;
import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** translate/summarize on the shipped EN→DE model: batching, engines, file inputs, and bad input. */
class TranslateCliTest {
    static final Path MODEL = Path.of("models/cortado-en-de");
    static final List<String> SOURCES = List.of("This package contains the documentation.", "A library for parsing XML files.",
            "Utilities", "The program reads the configuration file and starts the server in the background.",
            "Development files for the C library.", "This is a transitional dummy package. It can safely be removed.",
            "Fonts for the desktop", "Command-line tool to convert images between many formats, including PNG and JPEG.");

    @TempDir Path tmp;

    static List<GenerationResult> translate(Families.Engine engine, List<String> sources, int beams) {
        Tokenizer tok = Tokenizer.fromFile(MODEL.resolve("tokenizer.json"));
        GenerationConfig c = GenerationConfig.fromFile(MODEL.resolve("generation_config.json")).numBeams(beams).maxNewTokens(24);
        try (Seq2Seq m = Families.openSeq2Seq(MODEL, new CpuBackend(), engine)) {
            return new Seq2SeqRunner(m, tok, c, true, w -> { }).run(sources);
        }
    }

    @Test
    void batchOfEightEqualsOneByOneAndOrt() {
        for (int beams : new int[] {1, 4}) {
            List<GenerationResult> batch = translate(Families.Engine.CORTADO, SOURCES, beams);
            List<GenerationResult> ort = translate(Families.Engine.ORT, SOURCES, beams);
            for (int i = 0; i < SOURCES.size(); i++) {
                GenerationResult one = translate(Families.Engine.CORTADO, List.of(SOURCES.get(i)), beams).getFirst();
                assertEquals(java.util.Arrays.toString(one.ids()), java.util.Arrays.toString(batch.get(i).ids()), "beams " + beams + " source " + i);
                assertEquals(java.util.Arrays.toString(ort.get(i).ids()), java.util.Arrays.toString(batch.get(i).ids()), "ORT, beams " + beams + " source " + i);
            }
        }
    }

    @Test
    void jsonOutputAndFileInputs() throws Exception {
        CliErrorsTest.Run r = run("translate", "--model", MODEL.toString(), "--json", "--max-length", "8", SOURCES.get(0));
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(SOURCES.get(0), j.get("source").asText());
        assertTrue(j.get("tokens").asInt() > 0 && j.get("tokens").asInt() <= 8);
        Path tsv = tmp.resolve("in.tsv"), jsonl = tmp.resolve("in.jsonl"), out = tmp.resolve("out.txt");
        List<String> rows = new ArrayList<>(List.of("id\ten"));
        for (int i = 0; i < 3; i++) rows.add(i + "\t" + SOURCES.get(i));
        Files.write(tsv, rows, StandardCharsets.UTF_8);
        r = run("translate", "--model", MODEL.toString(), "--max-length", "8", "--input", tsv.toString(), "--column", "en", "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        List<String> fromTsv = Files.readAllLines(out);
        assertEquals(3, fromTsv.size());
        Files.write(jsonl, SOURCES.subList(0, 3).stream().map(s -> "{\"text\": \"" + s + "\"}").toList(), StandardCharsets.UTF_8);
        r = run("translate", "--model", MODEL.toString(), "--max-length", "8", "--input", jsonl.toString());
        assertEquals(fromTsv, r.out().lines().toList());
        r = runWithStdin(String.join("\n", SOURCES.subList(0, 3)).getBytes(StandardCharsets.UTF_8), "translate", "--model", MODEL.toString(), "--max-length", "8");
        assertEquals(fromTsv, r.out().lines().toList());
    }

    @Test
    void badInput() throws Exception {
        String m = MODEL.toString();
        CliErrorsTest.Run empty = run("translate", "--model", m, "");
        assertEquals(0, empty.code(), empty.err());
        assertEquals("\n", empty.out(), "an empty source gives an empty line (CliHardeningTest: the batch goes on)");
        assertOneLineError(run("translate", "--model", m, "--no-truncate", "word ".repeat(400)), "limit of 128 (model_max_length");
        CliErrorsTest.Run r = run("translate", "--model", m, "--max-length", "4", "word ".repeat(400));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("truncated"), r.err());
        Path noDecoder = Files.createDirectories(tmp.resolve("nodec"));
        for (String f : new String[] {"config.json", "generation_config.json", "tokenizer.json", "encoder_model.onnx"}) {
            Files.createSymbolicLink(noDecoder.resolve(f), MODEL.resolve(f).toAbsolutePath());
        }
        assertOneLineError(run("translate", "--model", noDecoder.toString(), "x"), "decoder_model.onnx");
        Path otherTok = Shared.require("models/tokenizers/t5-small/tokenizer.json");
        assertOneLineError(run("translate", "--model", m, "--tokenizer", otherTok.toString(), "x"), "vocabulary");
        assertOneLineError(run("translate", "--model", m, "--beams", "0", "x"), "beams");
    }
}
