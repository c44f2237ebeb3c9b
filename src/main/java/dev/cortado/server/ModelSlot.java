package dev.cortado.server;

import dev.cortado.api.ApiException;
import dev.cortado.api.OpenAiService;
import dev.cortado.api.ServedModel;
import java.util.concurrent.Semaphore;

/**
 * One served model: its {@link OpenAiService} (lenient: unknown fields are ignored, as OpenAI does) and its
 * admission limit, {@code maxQueue} requests held at once (running in the engine or waiting for it); one more is
 * refused with 429 at once instead of waiting without bound.
 */
final class ModelSlot implements AutoCloseable {
    final ServedModel model;
    final OpenAiService service;
    final long created = System.currentTimeMillis() / 1000;
    private final int maxQueue;
    private final Semaphore admitted;

    ModelSlot(ServedModel model, int maxQueue) {
        this.model = model;
        this.service = new OpenAiService(model, false);
        this.maxQueue = maxQueue;
        this.admitted = new Semaphore(maxQueue);
    }

    String name() {
        return model.name();
    }

    /** Takes a place or throws the 429. */
    void admit() {
        if (!admitted.tryAcquire())
            throw new ApiException("queue_full", "model '" + name() + "' already holds " + maxQueue + " requests (--max-queue); "
                    + "retry shortly");
    }

    void release() {
        admitted.release();
    }

    /** Requests held now (the queue depth). */
    int inFlight() {
        return maxQueue - admitted.availablePermits();
    }

    @Override
    public void close() {
        model.close();
    }
}
