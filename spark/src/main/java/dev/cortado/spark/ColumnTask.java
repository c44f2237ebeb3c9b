package dev.cortado.spark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.api.ApiJson;
import dev.cortado.api.CompletionResponse;
import dev.cortado.api.EmbeddingResponse;
import dev.cortado.api.OpenAiService;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.concurrent.CompletableFuture;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * The executor side of {@link CortadoSpark}: a partition's rows through this JVM's one {@link OpenAiService} for
 * the model, each row extended with its result and its error (one of them null).
 */
final class ColumnTask implements MapPartitionsFunction<Row, Row> {
    enum Kind { COMPLETION, EMBEDDING }

    private final ModelSpec model;
    private final Kind kind;
    private final LinkedHashMap<String, Object> knobs;
    private final int window;
    private final int column;

    ColumnTask(ModelSpec model, Kind kind, LinkedHashMap<String, Object> knobs, int window, int column) {
        if (window < 1) throw new dev.cortado.CortadoException("window must be ≥ 1 rows in flight, got " + window);
        if (knobs.containsKey("prompt") || knobs.containsKey("stream"))
            throw new dev.cortado.CortadoException("knobs may not set prompt or stream: the prompt is the text column");
        this.model = model;
        this.kind = kind;
        this.knobs = knobs;
        this.window = window;
        this.column = column;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        if (!rows.hasNext()) return java.util.Collections.emptyIterator();
        OpenAiService service = ExecutorModels.service(model);
        return new Pipelined<Row, Object, Row>(rows, window, true, row -> submit(service, row), this::finish);
    }

    private CompletableFuture<Object> submit(OpenAiService service, Row row) {
        String text = row.isNullAt(column) ? null : row.getString(column);
        if (text == null) throw new dev.cortado.CortadoException("the text is null");
        ObjectNode body = ApiJson.MAPPER.valueToTree(knobs);
        if (kind == Kind.EMBEDDING) return service.handle("/v1/embeddings", body.put("input", text));
        return service.handle("/v1/completions", body.put("prompt", text));
    }

    private Row finish(Row row, Object result, Throwable error) {
        Object[] v = new Object[row.length() + 2];
        for (int i = 0; i < row.length(); i++) v[i] = row.get(i);
        if (error != null) v[v.length - 1] = OpenAiService.failure("", error).error().message();
        else v[v.length - 2] = switch (result) {
            case CompletionResponse c -> c.choices().getFirst().text();
            case EmbeddingResponse e -> e.data().getFirst().embedding();
            default -> throw new IllegalStateException("unexpected response " + result.getClass().getSimpleName());
        };
        return RowFactory.create(v);
    }
}
