package dev.cortado.spark;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Cortado for Spark users: each call adds a column computed from a text column, on the executors, with one model
 * (and its serving engine) per executor JVM, opened from {@code modelPath} on first use, reused by every task and
 * partition after that and closed when the JVM exits. Rows are fed to the engine continuously ({@code window} in
 * flight per task, batched with the other tasks' rows) and keep their order.
 *
 * <pre>{@code
 * Dataset<Row> de = CortadoSpark.translate(df, "text", "/mnt/models/cortado-en-de");      // + translation, translation_error
 * Dataset<Row> v  = CortadoSpark.embed(df, "text", "/mnt/models/all-MiniLM-L6-v2");        // + embedding (array<float>)
 * }</pre>
 * {@code modelPath} must be readable on every executor (shared storage mounted at the same path, or shipped with
 * {@code --archives model.zip#name} and given as {@code name}); only the path travels with the tasks, never weights.
 * A row that cannot run (null or empty text, a prompt longer than the context, a bad knob) gets null in the output
 * column and the reason in {@code <output>_error}; the task goes on. Results are those of {@code cortado batch} on the
 * same text: {@code translate}/{@code summarize}/{@code complete} send a {@code /v1/completions} request with
 * {@code prompt} = the text, {@code embed} a {@code /v1/embeddings} request. Greedy by default, so a retried task
 * gives the same column.
 */
public final class CortadoSpark {
    private CortadoSpark() {}

    /** EN→DE (or whatever the seq2seq model translates): adds {@code translation}, {@code translation_error}. */
    public static Dataset<Row> translate(Dataset<Row> df, String textColumn, String modelPath) {
        return complete(df, textColumn, ModelSpec.of(modelPath), "translation", Map.of(), 64);
    }

    /** One-line summaries with a seq2seq summarizer: adds {@code summary}, {@code summary_error}. */
    public static Dataset<Row> summarize(Dataset<Row> df, String textColumn, String modelPath) {
        return complete(df, textColumn, ModelSpec.of(modelPath), "summary", Map.of(), 64);
    }

    /** Greedy completions with a decoder (max_tokens 16, OpenAI's default): adds {@code completion}, {@code completion_error}. */
    public static Dataset<Row> complete(Dataset<Row> df, String textColumn, String modelPath) {
        return complete(df, textColumn, ModelSpec.of(modelPath), "completion", Map.of("temperature", 0), 64);
    }

    /** Sentence embeddings: adds {@code embedding} (array&lt;float&gt;) and {@code embedding_error}. */
    public static Dataset<Row> embed(Dataset<Row> df, String textColumn, String modelPath) {
        return embed(df, textColumn, ModelSpec.of(modelPath), "embedding", 64);
    }

    /**
     * The general form: {@code knobs} are the /v1/completions body's fields besides prompt ({@code max_tokens},
     * {@code temperature}, {@code seed}, {@code stop}, …; sampling needs a {@code seed} for a retried task to give
     * the same text); {@code window} rows in flight per task.
     */
    public static Dataset<Row> complete(Dataset<Row> df, String textColumn, ModelSpec model, String outputColumn,
                                        Map<String, ?> knobs, int window) {
        return add(df, textColumn, new ColumnTask(model, ColumnTask.Kind.COMPLETION, new LinkedHashMap<>(knobs), window,
                df.schema().fieldIndex(textColumn)), outputColumn, DataTypes.StringType);
    }

    /** The general form of {@link #embed(Dataset, String, String)}. */
    public static Dataset<Row> embed(Dataset<Row> df, String textColumn, ModelSpec model, String outputColumn, int window) {
        return add(df, textColumn, new ColumnTask(model, ColumnTask.Kind.EMBEDDING, new LinkedHashMap<>(), window,
                df.schema().fieldIndex(textColumn)), outputColumn, DataTypes.createArrayType(DataTypes.FloatType, false));
    }

    private static Dataset<Row> add(Dataset<Row> df, String textColumn, ColumnTask task, String out, DataType type) {
        if (!df.schema().apply(textColumn).dataType().equals(DataTypes.StringType))
            throw new dev.cortado.CortadoException("column '" + textColumn + "' is " + df.schema().apply(textColumn).dataType()
                    .simpleString() + ", not a string; cast it first");
        StructType schema = df.schema().add(out, type, true).add(out + "_error", DataTypes.StringType, true);
        return df.mapPartitions(task, Encoders.row(schema));
    }
}
