package dev.cortado.spark;

import static dev.cortado.spark.SparkTests.byId;
import static dev.cortado.spark.SparkTests.cli;
import static dev.cortado.spark.SparkTests.ddtp;
import static dev.cortado.spark.SparkTests.ids;
import static dev.cortado.spark.SparkTests.line;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cortado batch --spark local[2]} against {@code cortado batch} in-process on the same file: every result
 * line equal by custom_id (ids and timestamps aside), the Spark output sorted by custom_id, bad rows as error lines
 * while the job succeeds, one engine per executor JVM however many tasks ran, and a rerun skipping the done ids.
 * Row counts (system properties cortado.spark.rows.*) are sized for CI's 2 cores: see the README's Spark section.
 */
class SparkBatchTest {
    /** DDTP dev sources translated greedily (the requests say num_beams 1), plus some with the model's beam 4. */
    static final int TRANSLATE = Integer.getInteger("cortado.spark.rows.translate", 500);
    static final int TRANSLATE_BEAM = Integer.getInteger("cortado.spark.rows.beam", 16);
    static final int SUMMARIZE = Integer.getInteger("cortado.spark.rows.summarize", 500);
    static final int STORIES = Integer.getInteger("cortado.spark.rows.stories", 400);

    static SparkSession spark;
    @TempDir Path tmp;

    @BeforeAll
    static void start() {
        spark = SparkTests.session();
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    /** Runs {@code input} in-process and on Spark; asserts equal results and returns the Spark output. */
    private Path bothWays(Path model, Path input, String name) throws Exception {
        Path ref = tmp.resolve(name + "-batch.jsonl"), out = tmp.resolve(name + "-spark.jsonl");
        long t0 = System.nanoTime();
        cli("batch", "--model", model.toString(), "--input", input.toString(), "--output", ref.toString());
        long t1 = System.nanoTime();
        String err = cli("batch", "--spark", "local[2]", "--model", model.toString(), "--input", input.toString(),
                "--output", out.toString());
        System.err.printf("%s: in-process batch %.1f s, --spark local[2] %.1f s%n", name, (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
        assertTrue(err.contains("Spark local[2]"), err);
        Map<String, JsonNode> want = byId(ref), got = byId(out);
        assertEquals(new TreeMap<>(want).keySet(), new TreeMap<>(got).keySet());
        for (var e : want.entrySet()) assertEquals(e.getValue(), got.get(e.getKey()), "custom_id " + e.getKey());
        List<String> order = ids(out), sorted = new ArrayList<>(order);
        java.util.Collections.sort(sorted);
        assertEquals(sorted, order, "the Spark output is sorted by custom_id");
        assertEquals(1, ExecutorModels.opened(spec(model)), "one engine for " + model + " in this (executor) JVM");
        return out;
    }

    static ModelSpec spec(Path model) {
        return ModelSpec.of(model.toAbsolutePath().normalize().toString());
    }

    @Test
    void translatesDdtpAsBatchDoesAndResumes() throws Exception {
        Path model = SparkTests.ownModel("cortado-en-de");
        List<String> src = ddtp("en-de", "en", TRANSLATE + TRANSLATE_BEAM);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < src.size(); i++) {
            Map<String, Object> body = i < TRANSLATE ? Map.of("prompt", src.get(i), "num_beams", 1) : Map.of("prompt", src.get(i));
            lines.add(line(String.format("ddtp-%04d", i), "/v1/completions", body));
        }
        lines.add(17, "{\"custom_id\":\"bad-body\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":\"not an object\"}");
        lines.add(25, "this line is not JSON");
        lines.add(26, "   ");
        lines.add(30, line("ddtp-0003", "/v1/completions", Map.of("prompt", "A duplicate custom_id.")));
        lines.add(line("bad-knob", "/v1/completions", Map.of("prompt", "x", "frobnicate", 1)));
        lines.add(line("empty", "/v1/completions", Map.of("prompt", " ")));
        Path input = tmp.resolve("ddtp.jsonl");
        Files.write(input, lines, StandardCharsets.UTF_8);

        Path out = bothWays(model, input, "ddtp");
        Map<String, JsonNode> got = byId(out);
        assertEquals(src.size() + 5, got.size());
        assertEquals("missing_body", got.get("bad-body").at("/error/code").textValue());
        assertEquals("invalid_json", got.get("line-26").at("/error/code").textValue());
        assertEquals("duplicate_custom_id", got.get("line-31").at("/error/code").textValue());
        assertNotNull(got.get("bad-knob").get("error").get("message"));
        assertTrue(got.get("empty").at("/error/message").textValue().contains("empty"));
        long ok = got.values().stream().filter(n -> n.get("error").isNull()).count();
        assertEquals(src.size(), ok, "every DDTP source translated");

        // rerun: nothing left to do, the file stays as it is
        byte[] full = Files.readAllBytes(out);
        String again = cli("batch", "--spark", "local[2]", "--model", model.toString(), "--input", input.toString(), "--output", out.toString());
        assertTrue(again.contains("0 results, 0 errors, " + got.size() + " already in"), again);
        assertEquals(new String(full, StandardCharsets.UTF_8), Files.readString(out));
        // a job killed while writing: whole lines kept, a cut last line dropped, the rest done on rerun
        List<String> kept = Files.readAllLines(out).subList(0, got.size() - 7);
        Files.writeString(out, String.join("\n", kept) + "\n" + Files.readAllLines(out).get(got.size() - 7).substring(0, 30));
        String resumed = cli("batch", "--spark", "local[2]", "--model", model.toString(), "--input", input.toString(), "--output", out.toString());
        assertTrue(resumed.contains("(skipped)"), resumed);
        assertEquals(got, byId(out));
        assertEquals(1, ExecutorModels.opened(spec(model)));
    }

    @Test
    void summarizesDdtpAsBatchDoes() throws Exception {
        Path model = SparkTests.ownModel("cortado-summarize-en");
        List<String> src = ddtp("summarize", "description", SUMMARIZE);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < src.size(); i++)
            lines.add(line(String.format("sum-%04d", i), "/v1/completions", Map.of("prompt", src.get(i), "num_beams", 1)));
        lines.add(5, line("chat-on-seq2seq", "/v1/chat/completions", Map.of("messages", List.of(Map.of("role", "user", "content", "hi")))));
        Path input = tmp.resolve("summarize.jsonl");
        Files.write(input, lines, StandardCharsets.UTF_8);
        Map<String, JsonNode> got = byId(bothWays(model, input, "summarize"));
        assertEquals("unsupported_url", got.get("chat-on-seq2seq").at("/error/code").textValue());
        assertEquals(src.size(), got.values().stream().filter(n -> n.get("error").isNull()).count());
    }

    /** stories260K completions, greedy and seeded sampling, read from a Parquet table (body a JSON string). */
    @Test
    void completesStoriesFromParquetAsBatchDoes() throws Exception {
        Path model = SparkTests.shared("models/stories260K");
        String[] starts = {"Once upon a time", "One day", "Tim had a red ball", "There was a cat", "Lily and Tom went to the park.",
            "The sun was shining", "A little bird", "Mom said", "The dog ran", "Ben saw a frog"};
        List<String> lines = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < STORIES; i++) {
            Map<String, Object> body = i % 4 == 3
                    ? Map.of("prompt", starts[i % starts.length], "max_tokens", 8 + i % 9, "temperature", 0.8, "seed", i)
                    : Map.of("prompt", starts[i % starts.length] + " " + i, "max_tokens", 4 + i % 13, "temperature", 0);
            lines.add(line("story-" + i, "/v1/completions", body));
        }
        lines.add(line("too-long", "/v1/completions", Map.of("prompt", "Once upon a time ".repeat(200), "max_tokens", 4)));
        lines.add("{\"custom_id\":\"malformed\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":\"{\\\"prompt\\\": \"}");
        for (String l : lines) {
            JsonNode n = SparkTests.M.readTree(l);
            JsonNode b = n.get("body");
            rows.add(RowFactory.create(n.get("custom_id").textValue(), n.get("url").textValue(), b.isTextual() ? b.textValue() : b.toString()));
        }
        Path jsonl = tmp.resolve("stories.jsonl"), parquet = tmp.resolve("stories.parquet");
        Files.write(jsonl, lines, StandardCharsets.UTF_8);
        StructType schema = new StructType().add("custom_id", DataTypes.StringType).add("url", DataTypes.StringType)
                .add("body", DataTypes.StringType);
        spark.createDataFrame(rows, schema).repartition(3).write().parquet(parquet.toString());

        Path ref = tmp.resolve("stories-batch.jsonl"), out = tmp.resolve("stories-spark.jsonl");
        long t0 = System.nanoTime();
        cli("batch", "--model", model.toString(), "--input", jsonl.toString(), "--output", ref.toString());
        cli("batch", "--spark", "local[2]", "--model", model.toString(), "--input", parquet.toString(), "--output", out.toString(),
                "--partitions", "5");
        System.err.printf("stories: both ways %.1f s%n", (System.nanoTime() - t0) / 1e9);
        Map<String, JsonNode> want = byId(ref), got = byId(out);
        assertEquals(new TreeMap<>(want).keySet(), new TreeMap<>(got).keySet());
        // a Parquet row stands for the JSONL line with its body: a body column that is not JSON is a string body
        for (var e : want.entrySet()) assertEquals(e.getValue(), got.get(e.getKey()), e.getKey());
        assertEquals("context_length_exceeded", got.get("too-long").at("/error/code").textValue());
        assertEquals("missing_body", got.get("malformed").at("/error/code").textValue());
        assertEquals(STORIES, got.values().stream().filter(n -> n.get("error").isNull()).count());
        assertEquals(1, ExecutorModels.opened(spec(model)));
    }
}
