package dev.cortado.spark;

import dev.cortado.CortadoException;
import dev.cortado.api.BatchJob;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapred.TextInputFormat;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * {@code cortado batch --spark MASTER}: the same OpenAI Batch job as {@code cortado batch}, its lines run on a
 * Spark cluster's executors (one engine per executor JVM, {@link ExecutorModels}). The driver reads the input
 * (JSONL, or a Parquet table with columns custom_id, url, body) through Spark, numbers its lines, resolves
 * duplicate custom_ids as {@code batch} does, skips the ids already in the output, runs the rest, then appends the
 * result lines to the output in custom_id order. Every line is the one {@code batch} writes for that request.
 */
public final class SparkBatch {
    private SparkBatch() {}

    /** Counts of one run, as {@code batch} reports them. */
    public record Summary(long total, long skipped, long succeeded, long failed, long completionTokens, int partitions) {}

    /** The CLI's entry ({@code BatchCommand} calls it by name): runs the job and prints batch's summary line. */
    public static int run(String master, Map<String, String> conf, Path model, Path input, Path output, String device,
                          String dtype, String kvMemory, int maxConcurrent, Integer partitions, PrintWriter err) throws IOException {
        ModelSpec spec = new ModelSpec(Files.exists(model) ? model.toAbsolutePath().normalize().toString() : model.toString(),
                device, dtype, kvMemory);
        Summary s = run(master, conf, spec, input, output, maxConcurrent, partitions);
        err.println("cortado: batch: " + s.succeeded() + " results, " + s.failed() + " errors"
                + (s.skipped() > 0 ? ", " + s.skipped() + " already in " + output + " (skipped)" : "")
                + " → " + output + " (Spark " + master + ", " + s.partitions() + " partitions)");
        err.flush();
        return 0;
    }

    /**
     * Runs the job on the active SparkSession if there is one (left running), else on a new one for {@code master}
     * with {@code conf} (stopped at the end).
     */
    public static Summary run(String master, Map<String, String> conf, ModelSpec model, Path input, Path output,
                              int maxConcurrent, Integer partitions) throws IOException {
        if (maxConcurrent < 1) throw new CortadoException("--max-concurrent must be ≥ 1, got " + maxConcurrent);
        if (partitions != null && partitions < 1) throw new CortadoException("--partitions must be ≥ 1, got " + partitions);
        boolean parquet = isParquet(input);
        if (!parquet && !Files.isRegularFile(input)) throw new CortadoException("input file not found: " + input);
        if (Files.exists(output) && Files.isSameFile(input, output))
            throw new CortadoException("--output is the input file " + input + "; write the results elsewhere");
        if (Files.isDirectory(output)) throw new CortadoException("--output " + output + " is a folder; give a file");
        Set<String> done = BatchJob.resume(output);
        SparkSession existing = SparkSession.getActiveSession().isDefined() ? SparkSession.getActiveSession().get()
                : SparkSession.getDefaultSession().isDefined() ? SparkSession.getDefaultSession().get() : null;
        SparkSession spark = existing != null ? existing : Sessions.create(master, conf);
        try {
            return run(spark, model, input, parquet, output, done, maxConcurrent, partitions);
        } catch (IOException e) {
            throw e;
        } catch (Exception e) { // Spark's SparkException is checked but thrown from Scala undeclared
            throw Sessions.oneLine(e);
        } finally {
            if (existing == null) spark.stop();
        }
    }

    private static Summary run(SparkSession spark, ModelSpec model, Path input, boolean parquet, Path output,
                               Set<String> done, int maxConcurrent, Integer partitions) throws IOException {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int parts = partitions != null ? partitions : 2 * jsc.defaultParallelism();
        JavaRDD<BatchLine> lines = parquet ? parquetLines(spark, input) : jsonlLines(jsc, input);
        // a custom_id's first line keeps it; later lines become duplicate errors under line-N (as batch does).
        // Lines that already failed are keyed apart so that they never meet. The shuffle also spreads the rows.
        JavaRDD<BatchLine> unique = lines
                .mapToPair(l -> new Tuple2<>(l.customId() != null ? "id:" + l.customId() : "line:" + l.number(), l))
                .groupByKey(parts)
                .flatMap(g -> firstKeeps(g._2()).iterator());
        Broadcast<Set<String>> skip = jsc.broadcast(done);
        JavaRDD<BatchLine> todo = unique.filter(l -> !skip.value().contains(l.key()));
        long total = unique.count();
        JavaRDD<BatchPartition.Result> results = todo.mapPartitions(new BatchPartition(model, maxConcurrent))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            long[] c = results.map(r -> new long[] {1, r.ok() ? 1 : 0, r.tokens()})
                    .fold(new long[3], (a, b) -> new long[] {a[0] + b[0], a[1] + b[1], a[2] + b[2]});
            if (c[0] > 0) append(output, results.mapToPair(r -> new Tuple2<>(r.key(), r.json())).sortByKey(true, parts)
                    .values().toLocalIterator());
            return new Summary(total, total - c[0], c[1], c[0] - c[1], c[2], parts);
        } finally {
            results.unpersist(true); // blocking: the session may be stopped next
            skip.destroy();
        }
    }

    /** The lines of one custom_id in line order: the first as it is, the others as its duplicates. */
    private static List<BatchLine> firstKeeps(Iterable<BatchLine> group) {
        List<BatchLine> all = new ArrayList<>();
        group.forEach(all::add);
        if (all.size() == 1) return all;
        all.sort(java.util.Comparator.comparingLong(BatchLine::number));
        long first = all.getFirst().number();
        List<BatchLine> out = new ArrayList<>(List.of(all.getFirst()));
        for (BatchLine l : all.subList(1, all.size())) out.add(l.duplicateOf(first));
        return out;
    }

    static boolean isParquet(Path input) {
        String name = input.getFileName() == null ? "" : input.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return name.endsWith(".parquet") || Files.isDirectory(input);
    }

    /** JSONL lines as raw bytes (decoded strictly later, as batch does), numbered from 1; blank lines dropped. */
    private static JavaRDD<BatchLine> jsonlLines(JavaSparkContext jsc, Path input) {
        return jsc.hadoopFile(input.toAbsolutePath().toUri().toString(), TextInputFormat.class, LongWritable.class, Text.class)
                .map(t -> java.util.Arrays.copyOf(t._2().getBytes(), t._2().getLength())) // the reader reuses its Text
                .zipWithIndex()
                .map(t -> BatchLine.parse(t._1(), t._2() + 1))
                .filter(java.util.Objects::nonNull);
    }

    /** A Parquet table's rows (custom_id, url, body: a JSON string or a struct), numbered from 1. */
    private static JavaRDD<BatchLine> parquetLines(SparkSession spark, Path input) {
        if (!Files.exists(input)) throw new CortadoException("input not found: " + input);
        Dataset<Row> t = spark.read().parquet(input.toAbsolutePath().toUri().toString());
        List<String> names = List.of(t.schema().fieldNames());
        for (String c : List.of("custom_id", "url", "body"))
            if (!names.contains(c)) throw new CortadoException("Parquet input " + input + " has no column '" + c + "' (it has "
                    + String.join(", ", names) + "); give columns custom_id, url, body");
        StructField body = t.schema().apply("body");
        Column b = body.dataType().equals(DataTypes.StringType) ? t.col("body") : functions.to_json(t.col("body"));
        return t.select(t.col("custom_id").cast("string"), t.col("url").cast("string"), b).javaRDD().zipWithIndex()
                .map(r -> BatchLine.ofColumns(r._1().getString(0), r._1().getString(1), r._1().getString(2), r._2() + 1))
                .filter(java.util.Objects::nonNull);
    }

    /** Appends the lines to {@code output}, each one whole write (so a kill leaves whole lines, as batch does). */
    private static void append(Path output, Iterator<String> lines) throws IOException {
        try (FileChannel ch = FileChannel.open(output, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            while (lines.hasNext()) {
                ByteBuffer buf = ByteBuffer.wrap((lines.next() + "\n").getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) ch.write(buf);
            }
        }
    }
}
