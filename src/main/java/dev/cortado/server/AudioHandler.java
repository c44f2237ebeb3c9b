package dev.cortado.server;

import com.sun.net.httpserver.HttpExchange;
import dev.cortado.api.ApiException;
import dev.cortado.api.TranscriptionRequest;
import dev.cortado.api.TranscriptionResponse;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * {@code POST /v1/audio/transcriptions} and {@code /v1/audio/translations}: a multipart/form-data upload read within
 * {@code --max-body} (413 past it), its fields checked ({@link TranscriptionRequest}), routed to a speech model
 * ({@code model}, or the only one served), admitted (429 when its queue is full) and transcribed; the answer is in
 * the requested {@code response_format}. Audio that is not a readable WAV is a 400 with one line saying why.
 */
final class AudioHandler {
    static final Set<String> PATHS = Set.of(TranscriptionRequest.URL, TranscriptionRequest.TRANSLATIONS_URL);

    private final ServerOptions options;
    private final Metrics metrics;
    private final Set<CompletableFuture<?>> inFlight;

    AudioHandler(ServerOptions options, Metrics metrics, Set<CompletableFuture<?>> inFlight) {
        this.options = options;
        this.metrics = metrics;
        this.inFlight = inFlight;
    }

    void post(HttpExchange ex, String endpoint, Map<String, ModelSlot> slots) throws IOException {
        byte[] body = Http.readBody(ex, options.maxBodyBytes());
        Multipart form = Multipart.parse(ex.getRequestHeaders().getFirst("Content-Type"), body, "file");
        TranscriptionRequest r = TranscriptionRequest.of(endpoint, form.fields(), form.file(), form.fileName());
        ModelSlot slot = ApiHandler.route(r.model(), endpoint, slots);
        String model = slot.name();
        try {
            slot.admit();
        } catch (ApiException e) {
            metrics.request(model, endpoint, 429);
            throw e;
        }
        long start = System.nanoTime();
        int status;
        try {
            CompletableFuture<TranscriptionResponse> f = null;
            try {
                f = slot.model.transcribe(r);
                inFlight.add(f);
                if (!ClientProbe.await(ex, f, options.heartbeat())) {
                    f.cancel(true); // the client went away: stop transcribing
                    metrics.cancelled(model);
                    status = ApiHandler.CLIENT_GONE;
                } else {
                    TranscriptionResponse out = f.get();
                    Http.send(ex, 200, out.contentType(), out.body());
                    status = 200;
                }
            } catch (InterruptedException e) {
                f.cancel(true);
                Thread.currentThread().interrupt();
                throw new CancellationException("interrupted");
            } catch (ExecutionException | RuntimeException e) {
                HttpError err = HttpError.from(e instanceof ExecutionException ? e.getCause() : e);
                status = err.status();
                Http.sendError(ex, err);
            } finally {
                if (f != null) inFlight.remove(f);
            }
        } finally {
            slot.release();
        }
        if (status == 200) metrics.latency(model, endpoint, (System.nanoTime() - start) / 1e9);
        metrics.request(model, endpoint, status);
    }
}
