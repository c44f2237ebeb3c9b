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
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cortado generate --json-schema | --json-object | --regex | --choice} on stories260K. */
class GenerateConstraintCliTest {
    @TempDir Path tmp;

    String model() {
        return Shared.require("models/stories260K").toString();
    }

    @Test
    void jsonSchemaRegexAndChoice() throws Exception {
        Path schema = tmp.resolve("s.json");
        Files.writeString(schema, "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":8},"
                + "\"age\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":99}},\"required\":[\"name\",\"age\"],\"additionalProperties\":false}");
        CliErrorsTest.Run r = run("generate", "--model", model(), "--prompt", "Once upon a time", "--max-tokens", "100",
                "--json-schema", schema.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertTrue(j.get("name").isTextual() && j.get("name").asText().length() <= 8, r.out());
        assertTrue(j.get("age").asInt() >= 1 && j.get("age").asInt() <= 99, r.out());
        assertEquals(2, j.size());

        r = run("generate", "--model", model(), "--prompt", "Once upon a time", "--regex", "[A-Z][a-z]+ (ran|sat) [0-9]{2}");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().strip().matches("[A-Z][a-z]+ (ran|sat) [0-9]{2}"), r.out());

        r = run("generate", "--model", model(), "--prompt", "Lily was", "--choice", "happy,sad,a dog", "--json",
                "--temperature", "1", "--seed", "4");
        assertEquals(0, r.code(), r.err());
        j = new ObjectMapper().readTree(r.out());
        assertTrue(List.of("happy", "sad", "a dog").contains(j.get("text").asText()), r.out());
        assertEquals("eos", j.get("finish_reason").asText());

        r = run("generate", "--model", model(), "--prompt", "Once upon a time", "--json-object", "--max-tokens", "8");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("{"), r.out());
    }

    @Test
    void incompleteOutputIsReported() {
        CliErrorsTest.Run r = run("generate", "--model", model(), "--prompt", "Once upon a time", "--max-tokens", "5",
                "--regex", "[a-z ]{20,40}!");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("output is incomplete") && r.err().contains("--max-tokens 5"), r.err());
    }

    @Test
    void badConstraintsAreOneLineErrors() throws Exception {
        Path schema = tmp.resolve("bad.json");
        Files.writeString(schema, "{\"type\":\"string\",\"format\":\"date\"}");
        assertOneLineError(run("generate", "--model", model(), "--prompt", "x", "--json-schema", schema.toString()),
                "keyword 'format' is not supported");
        assertOneLineError(run("generate", "--model", model(), "--prompt", "x", "--json-schema", tmp.resolve("none.json").toString()),
                "cannot read json schema");
        assertOneLineError(run("generate", "--model", model(), "--prompt", "x", "--regex", "(a"), "missing ')'");
        assertOneLineError(run("generate", "--model", model(), "--prompt", "x", "--regex", "a", "--choice", "b"), "exclude each other");
    }
}
