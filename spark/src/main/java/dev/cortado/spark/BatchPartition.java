package dev.cortado.spark;

import dev.cortado.api.ApiJson;
import dev.cortado.api.BatchInput;
import dev.cortado.api.BatchOutput;
import dev.cortado.api.OpenAiService;
import java.io.Serializable;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import org.apache.spark.api.java.function.FlatMapFunction;

/**
 * The executor side of {@code batch --spark}: a partition's request lines through this JVM's one
 * {@link OpenAiService} for the model ({@link ExecutorModels}), {@code window} in flight at once, each turned into
 * the output line {@code cortado batch} writes for it ({@link OpenAiService#batchLine}'s line: a bad request is an
 * error line, never a failed task).
 */
final class BatchPartition implements FlatMapFunction<Iterator<BatchLine>, BatchPartition.Result> {
    /** One output line, keyed for the sort, with what the summary counts. */
    record Result(String key, String json, boolean ok, long tokens) implements Serializable {}

    private final ModelSpec model;
    private final int window;

    BatchPartition(ModelSpec model, int window) {
        this.model = model;
        this.window = window;
    }

    @Override
    public Iterator<Result> call(Iterator<BatchLine> lines) {
        if (!lines.hasNext()) return java.util.Collections.emptyIterator();
        OpenAiService service = ExecutorModels.service(model);
        return new Pipelined<BatchLine, Object, Result>(lines, window, false, line -> submit(service, line), BatchPartition::finish);
    }

    /** The request's response body (a line that already failed completes at once with null). */
    private static CompletableFuture<Object> submit(OpenAiService service, BatchLine line) {
        if (line.error() != null) return CompletableFuture.completedFuture(null);
        BatchInput in = BatchInput.parse(line.text(), Math.toIntExact(line.number())).check();
        return service.handle(in.url(), in.body());  // cancellable: cancelling frees the engine's KV blocks
    }

    private static Result finish(BatchLine line, Object body, Throwable error) {
        if (line.error() != null) return new Result(line.key(), line.error(), false, 0);
        BatchOutput out = error == null ? BatchOutput.success(line.key(), body) : OpenAiService.failure(line.key(), error);
        return new Result(line.key(), ApiJson.write(out), out.error() == null,
                out.error() == null ? OpenAiService.completionTokens(body) : 0);
    }
}
