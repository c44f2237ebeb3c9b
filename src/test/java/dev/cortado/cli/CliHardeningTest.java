package dev.cortado.cli;

import static dev.cortado.cli.CliErrorsTest.assertOneLineError;
import static dev.cortado.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.engine.DefaultModels;
import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** Issue #18's CLI findings: each one run through {@link Main} as a user runs it. */
class CliHardeningTest {
    static final String EN_DE = "models/cortado-en-de";

    @TempDir Path tmp;

    static String stories() {
        return Shared.require("models/stories260K").toString();
    }

    @Test
    void noArgumentsPrintsUsageAndExits2() {
        CliErrorsTest.Run r = run();
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Usage: cortado"), r.err());
        assertEquals("", r.out());
        assertEquals(0, run("--help").code());
    }

    @Test
    void everyOptionAndParameterHasHelpText() {
        List<String> missing = new ArrayList<>();
        walk(new CommandLine(new Main()), missing);
        assertTrue(missing.isEmpty(), "options without a description: " + missing);
    }

    private static void walk(CommandLine cl, List<String> missing) {
        CommandSpec spec = cl.getCommandSpec();
        for (OptionSpec o : spec.options()) {
            if (o.description().length == 0 || String.join("", o.description()).isBlank()) missing.add(spec.qualifiedName() + " " + o.longestName());
        }
        for (PositionalParamSpec p : spec.positionalParameters()) {
            if (p.description().length == 0 || String.join("", p.description()).isBlank()) missing.add(spec.qualifiedName() + " " + p.paramLabel());
        }
        for (CommandLine sub : cl.getSubcommands().values()) walk(sub, missing);
    }

    @Test
    void emptySourceGivesEmptyLineAndTheRestGoesOn() throws Exception {
        CliErrorsTest.Run whole = run("translate", "--model", EN_DE, "--max-length", "12", "Fonts for the desktop", "Utilities");
        assertEquals(0, whole.code(), whole.err());
        List<String> expected = whole.out().lines().toList();
        CliErrorsTest.Run r = run("translate", "--model", EN_DE, "--max-length", "12", "Fonts for the desktop", "", "Utilities");
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of(expected.get(0), "", expected.get(1)), r.out().lines().toList());
        assertTrue(r.err().contains("source 2 is empty"), r.err());
        r = run("translate", "--model", EN_DE, "--max-length", "12", "--json", "Fonts for the desktop", " ", "Utilities");
        assertEquals(0, r.code(), r.err());
        List<JsonNode> js = new ArrayList<>();
        for (String l : r.out().lines().toList()) js.add(new ObjectMapper().readTree(l));
        assertEquals(3, js.size());
        assertEquals(expected.get(0), js.get(0).get("text").asText());
        assertEquals("empty source", js.get(1).get("error").asText());
        assertFalse(js.get(1).has("text"));
        assertEquals(expected.get(1), js.get(2).get("text").asText());
    }

    @Test
    void messagesNumberSourcesInTheWholeInput() {
        CliErrorsTest.Run r = run("translate", "--model", EN_DE, "--max-length", "4", "--batch-size", "2", "Utilities", "", "Fonts",
                "word ".repeat(400));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("source 2 is empty") && r.err().contains("source 4 truncated"), r.err());
        assertOneLineError(run("translate", "--model", EN_DE, "--max-length", "4", "--batch-size", "2", "--no-truncate", "Utilities", "",
                "Fonts", "word ".repeat(400)).withoutWarnings(), "source 4 has");
    }

    @Test
    void inputFileAndTextTogetherIsAnError() throws Exception {
        Path in = Files.writeString(tmp.resolve("in.txt"), "Utilities\n");
        assertOneLineError(run("translate", "--model", EN_DE, "--input", in.toString(), "Fonts"), "both --input");
    }

    @Test
    void multiColumnTsvNeedsColumn() throws Exception {
        Path tsv = Files.writeString(tmp.resolve("in.tsv"), "id\ten\n1\tUtilities\n");
        assertOneLineError(run("translate", "--model", EN_DE, "--input", tsv.toString()), "--column");
        CliErrorsTest.Run byName = run("translate", "--model", EN_DE, "--max-length", "8", "--input", tsv.toString(), "--column", "en");
        CliErrorsTest.Run direct = run("translate", "--model", EN_DE, "--max-length", "8", "Utilities");
        assertEquals(0, byName.code(), byName.err());
        assertEquals(direct.out(), byName.out(), "the header line is not translated");
        Path one = Files.writeString(tmp.resolve("one.tsv"), "Utilities\n");
        assertEquals(direct.out(), run("translate", "--model", EN_DE, "--max-length", "8", "--input", one.toString()).out());
    }

    @Test
    void detokenizeUnknownIdIsAnError() {
        String tok = Shared.require("models/stories260K/tokenizer.json").toString();
        assertOneLineError(run("detokenize", "--tokenizer", tok, "99999999"), "token id 99999999 is not in the vocabulary");
        assertOneLineError(run("detokenize", "--tokenizer", tok, "-1"), "512 tokens");
        CliErrorsTest.Run r = run("detokenize", "--tokenizer", tok, "[407,", "261]");
        assertEquals(0, r.code(), r.err());
        assertEquals(Tokenizer.fromFile(Path.of(tok)).decode(new int[] {407, 261}, false), r.out().stripTrailing());
    }

    @Test
    void modelOfTheWrongKindNamesTheCommandThatRunsIt() {
        assertOneLineError(run("translate", "--model", stories(), "x"), "use cortado generate");
        assertOneLineError(run("summarize", "--model", stories(), "x"), "use cortado generate");
        CliErrorsTest.Run r = run("generate", "--model", EN_DE, "--prompt", "x");
        assertOneLineError(r, "seq2seq");
        assertTrue(r.err().contains("cortado translate or cortado summarize") && !r.err().contains("export"), r.err());
        assertOneLineError(run("embed", "--model", stories(), "x"), "use cortado generate");
    }

    @Test
    void engineAutoIsAcceptedEverywhere() {
        String[] g = {"generate", "--model", stories(), "--prompt", "Once upon a time", "--max-tokens", "12"};
        CliErrorsTest.Run cortado = run(g), auto = run(concat(g, "--engine", "auto"));
        assertEquals(0, auto.code(), auto.err());
        assertEquals(cortado.out(), auto.out());
        CliErrorsTest.Run e1 = run("embed", "A man is eating food."), e2 = run("embed", "--engine", "auto", "A man is eating food.");
        assertEquals(0, e2.code(), e2.err());
        assertEquals(e1.out(), e2.out());
        assertEquals(0, run("translate", "--model", EN_DE, "--engine", "auto", "--max-length", "4", "Utilities").code());
        assertOneLineError(run("embed", "--engine", "tf", "x"), "cortado, ort or auto");
        assertOneLineError(run("generate", "--model", stories(), "--prompt", "x", "--engine", "tf"), "cortado, ort or auto");
    }

    @Test
    void quantizedEmbedderRunsOnCortadoAndAutoPicksIt() {
        // the int8 MiniLM (MatMulInteger) runs on Cortado's engine; auto picks it (not ONNX Runtime)
        CliErrorsTest.Run r = run("embed", "--engine", "cortado", "--model", DefaultModels.minilmQuantized().toString(), "x");
        assertEquals(0, r.code(), r.err());
        assertEquals(r.out(), run("embed", "--engine", "auto", "--model", DefaultModels.minilmQuantized().toString(), "x").out());
    }

    @Test
    void samplingWithoutSeedDrawsAFreshOneAndReportsIt() throws Exception {
        String[] a = {"generate", "--model", stories(), "--prompt", "Once upon a time", "--max-tokens", "30", "--temperature", "1", "--json"};
        JsonNode r1 = new ObjectMapper().readTree(run(a).out()), r2 = new ObjectMapper().readTree(run(a).out());
        assertNotEquals(r1.get("seed").asLong(), r2.get("seed").asLong());
        assertNotEquals(r1.get("text").asText(), r2.get("text").asText(), "two unseeded runs differ (as in transformers)");
        JsonNode again = new ObjectMapper().readTree(run(concat(a, "--seed", r1.get("seed").asText())).out());
        assertEquals(r1.get("text").asText(), again.get("text").asText(), "the printed seed reproduces the run");
        JsonNode greedy = new ObjectMapper().readTree(run("generate", "--model", stories(), "--prompt", "Once", "--max-tokens", "3", "--json").out());
        assertFalse(greedy.has("seed"), "greedy decoding draws no seed");
    }

    @Test
    void truncateFlagAndLengthLimitsInTheCommandsTerms() {
        String[] g = {"generate", "--model", stories(), "--prompt", "Once upon a time", "--max-tokens", "510"};
        CliErrorsTest.Run r = run(g);
        assertOneLineError(r, "--truncate left");
        assertFalse(r.err().contains("set truncate_prompt"), r.err());
        r = run(concat(g, "--truncate", "left"));
        assertEquals(0, r.code(), r.err());
        assertOneLineError(run(concat(g, "--truncate", "middle")), "--truncate");
        r = run("translate", "--model", EN_DE, "--max-length", "100000", "Utilities");
        assertOneLineError(r, "at most 255 output tokens");
        assertTrue(r.err().contains("--max-length") && !r.err().contains("prompt"), r.err());
    }

    @Test
    void infoUsesTheSameDetectionAsTheCommands() {
        CliErrorsTest.Run r = run("info", "--model", EN_DE);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("seq2seq") && r.out().contains("engine:     marian"), r.out());
        r = run("info", "--model", stories());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("model.safetensors") && r.out().contains("engine:     llama (llama, safetensors)"), r.out());
        r = run("info", "--model", Path.of(stories(), "onnx", "model.onnx").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("engine:     llama (llama, onnx)") && !r.out().contains("not recognized"), r.out());
        r = run("info");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("encoder (embedding) model") && r.out().contains("engine:     "), r.out());
        r = run("info", "--model", EN_DE, "--device", "cuda");
        assertTrue(r.out().contains("model:      " + EN_DE), "--model is described with --device cuda: " + r.out());
        if (r.code() != 0) assertOneLineError(r, "CUDA");
    }

    @Test
    void configParseErrorIsOneLine() throws Exception {
        Path d = Files.createDirectories(tmp.resolve("badconfig"));
        Path s = Path.of(stories());
        for (String f : new String[] {"model.safetensors", "tokenizer.json"}) Files.createSymbolicLink(d.resolve(f), s.resolve(f).toAbsolutePath());
        Files.writeString(d.resolve("config.json"), "{\"model_type\": \"llama\",\n \"hidden_size\": 64,,\n}");
        assertOneLineError(run("generate", "--model", d.toString(), "--prompt", "x"), "config.json");
        assertOneLineError(run("info", "--model", d.toString()), "config.json");
    }

    @Test
    void benchSmokeWritesOutsideTheWorkingTree() {
        CliErrorsTest.Run r = run("bench", "serve", "--smoke");
        assertEquals(0, r.code(), r.err());
        String wrote = r.out().lines().filter(l -> l.startsWith("wrote ")).findFirst().orElseThrow();
        Path json = Path.of(wrote.substring(6, wrote.indexOf(',')));
        assertTrue(json.toAbsolutePath().startsWith(Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath()), wrote);
        assertFalse(json.toAbsolutePath().startsWith(Path.of("").toAbsolutePath()), wrote);
    }

    static String[] concat(String[] a, String... more) {
        List<String> l = new ArrayList<>(List.of(a));
        l.addAll(List.of(more));
        return l.toArray(String[]::new);
    }

    static List<String> lines(Path p) throws Exception {
        return Files.readAllLines(p, StandardCharsets.UTF_8);
    }
}
