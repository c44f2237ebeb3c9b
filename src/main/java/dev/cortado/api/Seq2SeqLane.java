package dev.cortado.api;

import dev.cortado.runtime.Cortado;
import dev.cortado.CortadoException;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Seq2seq (translate/summarize) requests through the {@link Cortado} facade, the one place that knows how: each
 * source is its own {@link Cortado#translate} call (so results are those of the source alone). When the facade
 * runs the model on its serving engine, the calls run on virtual threads and the engine batches them
 * continuously; a model on ONNX Runtime (no engine) gets them one at a time on one thread.
 */
public final class Seq2SeqLane implements AutoCloseable {
    private final Cortado model;
    private final ExecutorService calls;

    public Seq2SeqLane(Cortado model) {
        this.model = model;
        boolean engine;
        try {
            model.engine();
            engine = true;
        } catch (CortadoException e) {
            engine = false;
        }
        this.calls = engine ? Executors.newVirtualThreadPerTaskExecutor()
                : Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("cortado-seq2seq").daemon().unstarted(r));
    }

    /** The num_return_sequences results of one source. */
    public CompletableFuture<List<GenerationResult>> submit(String source, GenerationConfig config) {
        return CompletableFuture.supplyAsync(() -> model.translate(List.of(source), config), calls);
    }

    /** Waits for the calls under way. */
    @Override
    public void close() {
        calls.shutdown();
        try {
            calls.awaitTermination(1, TimeUnit.DAYS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
