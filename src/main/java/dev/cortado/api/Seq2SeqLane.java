package dev.cortado.api;

import dev.cortado.Cortado;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Seq2seq (translate/summarize) requests, until the engine batches encoder-decoder models: one worker thread
 * groups waiting sources that share a generation config (up to {@code batchSize}) into one
 * {@link Cortado#translate} call. This is the one place to switch to the engine later. A failing group is retried
 * source by source, so one bad source fails only its own request.
 */
public final class Seq2SeqLane implements AutoCloseable {
    private record Job(String source, GenerationConfig config, CompletableFuture<List<GenerationResult>> future) {}

    private final Cortado model;
    private final int batchSize;
    private final BlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;

    public Seq2SeqLane(Cortado model, int batchSize) {
        this.model = model;
        this.batchSize = batchSize;
        this.worker = Thread.ofPlatform().name("cortado-seq2seq").daemon().start(this::loop);
    }

    /** The num_return_sequences results of one source. */
    public CompletableFuture<List<GenerationResult>> submit(String source, GenerationConfig config) {
        CompletableFuture<List<GenerationResult>> f = new CompletableFuture<>();
        if (closed) f.completeExceptionally(new ApiException("server_error", "the seq2seq lane is closed"));
        else queue.add(new Job(source, config, f));
        return f;
    }

    private void loop() {
        LinkedList<Job> pending = new LinkedList<>();
        while (!closed || !queue.isEmpty() || !pending.isEmpty()) {
            try {
                if (pending.isEmpty()) {
                    Job j = queue.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
                    if (j == null) continue;
                    pending.add(j);
                }
                queue.drainTo(pending);
            } catch (InterruptedException e) {
                break;
            }
            GenerationConfig c = pending.getFirst().config();
            List<Job> group = new ArrayList<>();
            for (Iterator<Job> it = pending.iterator(); it.hasNext() && group.size() < batchSize; ) {
                Job j = it.next();
                if (j.config().equals(c)) {
                    group.add(j);
                    it.remove();
                }
            }
            run(group);
        }
        for (Job j : pending) j.future().cancel(false);
    }

    private void run(List<Job> group) {
        try {
            List<GenerationResult> rs = model.translate(group.stream().map(Job::source).toList(), group.getFirst().config());
            int per = rs.size() / group.size();
            for (int i = 0; i < group.size(); i++) group.get(i).future().complete(rs.subList(i * per, (i + 1) * per));
        } catch (RuntimeException e) {
            if (group.size() == 1) group.getFirst().future().completeExceptionally(e);
            else for (Job j : group) run(List.of(j));
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
