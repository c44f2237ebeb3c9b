package dev.cortado.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.generate.GenerationResult;
import dev.cortado.runtime.Cortado;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Dataset API on local[2]: the added column equals {@link Cortado#translate} (the facade, in this JVM) on the
 * same texts, row for row; rows keep their order and other columns; a bad row gets null and its error, the job
 * succeeds; one engine per model in this (executor) JVM.
 */
class CortadoSparkTest {
    static final int ROWS = Integer.getInteger("cortado.spark.rows.dataset", 32);

    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkTests.session();
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    /** (id, text) rows over {@code texts} in 3 partitions, plus a null text and an empty one at the end. */
    private static Dataset<Row> frame(List<String> texts) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) rows.add(RowFactory.create(i, texts.get(i)));
        rows.add(RowFactory.create(texts.size(), null));
        rows.add(RowFactory.create(texts.size() + 1, " "));
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType);
        return spark.createDataFrame(rows, schema).repartition(3).sortWithinPartitions("id");
    }

    private static void assertColumn(List<Row> out, List<String> want, String column) {
        assertEquals(want.size() + 2, out.size());
        for (Row r : out) {
            int id = r.getInt(r.fieldIndex("id"));
            if (id < want.size()) {
                assertNull(r.get(r.fieldIndex(column + "_error")), () -> "row " + id + ": " + r);
                assertEquals(want.get(id), r.getString(r.fieldIndex(column)), "row " + id);
            } else {
                assertNull(r.get(r.fieldIndex(column)), "row " + id);
                assertNotNull(r.getString(r.fieldIndex(column + "_error")), "row " + id);
            }
        }
    }

    private static List<String> facade(Path model, List<String> texts) {
        try (Cortado rt = Cortado.open(model)) {
            return rt.translate(texts, rt.generationConfig()).stream().map(GenerationResult::text).toList();
        }
    }

    @Test
    void translateColumnEqualsTheFacade() throws Exception {
        Path model = SparkTests.ownModel("cortado-en-de");
        List<String> texts = SparkTests.ddtp("en-de", "en", ROWS);
        long t0 = System.nanoTime();
        List<String> want = facade(model, texts);
        long t1 = System.nanoTime();
        Dataset<Row> out = CortadoSpark.translate(frame(texts), "text", model.toString());
        assertEquals(List.of("id", "text", "translation", "translation_error"), List.of(out.schema().fieldNames()));
        List<Row> rows = out.collectAsList();
        System.err.printf("translate %d rows: facade %.1f s, Dataset API local[2] %.1f s%n", texts.size(), (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
        assertColumn(rows, want, "translation");
        for (Row r : rows) if (r.getInt(0) == texts.size() + 1) assertTrue(r.getString(3).contains("empty"), r.getString(3));
        // order within a partition is kept: ids ascend inside each partition
        List<Integer> ids = out.select("id").as(org.apache.spark.sql.Encoders.INT()).mapPartitions(
                (org.apache.spark.api.java.function.MapPartitionsFunction<Integer, Integer>) it -> {
                    int last = -1, bad = 0;
                    while (it.hasNext()) { int v = it.next(); if (v < last) bad++; last = v; }
                    return List.of(bad).iterator();
                }, org.apache.spark.sql.Encoders.INT()).collectAsList();
        assertEquals(List.of(0, 0, 0), ids);
        assertEquals(1, ExecutorModels.opened(ModelSpec.of(model.toString())));
    }

    @Test
    void summarizeColumnEqualsTheFacade() throws Exception {
        Path model = SparkTests.ownModel("cortado-summarize-en");
        List<String> texts = SparkTests.ddtp("summarize", "description", ROWS / 3);
        assertColumn(CortadoSpark.summarize(frame(texts), "text", model.toString()).collectAsList(), facade(model, texts), "summary");
        assertEquals(1, ExecutorModels.opened(ModelSpec.of(model.toString())));
    }

    /**
     * The embedding column equals the facade's embedding of each text alone (to 1e-5: the facade opens the embedder
     * its own way), a null text is an error row.
     */
    @Test
    void embedColumnEqualsTheFacade(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("all-minilm-l6-v2");
        java.nio.file.Files.createDirectories(model);
        for (String[] f : new String[][] {{"all-minilm-l6-v2.onnx", "model.onnx"}, {"all-minilm-l6-v2-tokenizer.json", "tokenizer.json"}}) {
            try (var in = getClass().getClassLoader().getResourceAsStream(f[0])) {
                org.junit.jupiter.api.Assumptions.assumeTrue(in != null, "all-MiniLM-L6-v2 jar absent: skipping");
                java.nio.file.Files.copy(in, model.resolve(f[1]));
            }
        }
        List<String> texts = SparkTests.ddtp("en-de", "en", 24);
        List<float[]> want = new ArrayList<>();
        try (Cortado rt = Cortado.open(model)) {
            for (String t : texts) want.add(rt.embed(List.of(t)).getFirst());
        }
        List<Row> rows = CortadoSpark.embed(frame(texts), "text", model.toString()).collectAsList();
        assertEquals(texts.size() + 2, rows.size());
        for (Row r : rows) {
            int id = r.getInt(0);
            if (id < texts.size()) {
                List<Float> got = r.getList(2);
                float[] w = want.get(id);
                assertEquals(w.length, got.size());
                // batch's embedder (BatchCommand.open) and the facade's (Cortado.open) agree to float rounding only
                for (int i = 0; i < w.length; i++) assertEquals(w[i], got.get(i), 1e-5f, "row " + id + " dim " + i);
            } else if (id == texts.size()) {
                assertNull(r.get(2));
                assertNotNull(r.getString(3));
            }
        }
        assertEquals(1, ExecutorModels.opened(ModelSpec.of(model.toString())));
    }

    /** Greedy completions equal the engine's own greedy generation; an over-long prompt is an error row. */
    @Test
    void completeColumnWithAnOverLongPrompt() throws Exception {
        Path model = SparkTests.shared("models/stories260K");
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 40; i++) texts.add((i % 2 == 0 ? "Once upon a time" : "Tim had a red ball") + " " + i);
        texts.add("Once upon a time ".repeat(200));
        List<String> want = new ArrayList<>();
        try (Cortado rt = Cortado.open(model)) {
            var g = rt.generator(rt.generationConfig().maxNewTokens(12)); // do_sample false: greedy
            for (String t : texts.subList(0, 40)) want.add(g.generate(t).text());
        }
        List<Row> rows = CortadoSpark.complete(frame(texts), "text", ModelSpec.of(model.toString()), "completion",
                Map.of("max_tokens", 12, "temperature", 0), 16).collectAsList();
        assertEquals(texts.size() + 2, rows.size());
        for (Row r : rows) {
            int id = r.getInt(0);
            if (id < 40) assertEquals(want.get(id), r.getString(2), "row " + id);
            else if (id < 42) { // the over-long prompt and the null text; a blank prompt is a fine prompt for a decoder
                assertNull(r.get(2), "row " + id);
                assertTrue(r.getString(3).contains(id == 40 ? "context" : "null"), r.getString(3));
            }
        }
        assertEquals(1, ExecutorModels.opened(ModelSpec.of(model.toString())));
    }
}
