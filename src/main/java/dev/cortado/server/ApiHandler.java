package dev.cortado.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import dev.cortado.api.ApiException;
import dev.cortado.api.ApiJson;
import dev.cortado.api.ChatCompletionResponse;
import dev.cortado.api.CompletionRequest;
import dev.cortado.api.EmbeddingRequest;
import dev.cortado.api.ServedModel;
import dev.cortado.api.CompletionResponse;
import dev.cortado.api.EmbeddingResponse;
import dev.cortado.api.OpenAiService;
import dev.cortado.api.Usage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The POST endpoints: reads the body within the limit, picks the model ({@code model}, or the only one served),
 * admits the request (429 when the model's queue is full), runs it through the model's
 * {@link OpenAiService} and answers with the response object, or, for {@code stream: true}, with Server-Sent Events
 * ({@code data: {chunk}} per token, flushed, then {@code data: [DONE]}). A streamed request whose client goes away
 * is cancelled at its next token (or heartbeat), which frees its KV blocks; a non-streamed one when
 * {@link ClientProbe} sees the connection closed.
 */
final class ApiHandler {
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HEARTBEAT = ": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII);

    /** Status of a request whose client disconnected (nginx's convention; metrics only). */
    static final int CLIENT_GONE = 499;

    private final ServerOptions options;
    private final Metrics metrics;
    private final Set<CompletableFuture<?>> inFlight;

    ApiHandler(ServerOptions options, Metrics metrics, Set<CompletableFuture<?>> inFlight) {
        this.options = options;
        this.metrics = metrics;
        this.inFlight = inFlight;
    }

    /** The end of a call, queued after its last chunk. */
    private record End(Object value, Throwable error) {}

    /** One call's listener: chunks go to the queue that the exchange's thread writes out; first-token time. */
    private final class Call implements OpenAiService.Listener {
        final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
        final long start = System.nanoTime();
        final String model, endpoint;

        Call(String model, String endpoint) {
            this.model = model;
            this.endpoint = endpoint;
        }

        @Override
        public void chunk(Object chunk) {
            queue.add(chunk);
        }

        @Override
        public void firstToken() {
            metrics.timeToFirstToken(model, endpoint, (System.nanoTime() - start) / 1e9);
        }
    }

    void post(HttpExchange ex, String endpoint, Map<String, ModelSlot> slots) throws IOException {
        JsonNode body = Http.readJson(ex, options.maxBodyBytes());
        ModelSlot slot = route(body, endpoint, slots);
        String model = slot.name();
        int status;
        try {
            slot.admit();
        } catch (ApiException e) {
            metrics.request(model, endpoint, 429);
            throw e;
        }
        try {
            Call call = new Call(model, endpoint);
            CompletableFuture<Object> f = null;
            try {
                f = slot.service.call(endpoint, body, call);
                inFlight.add(f);
                boolean streams = !endpoint.equals(EmbeddingRequest.URL) && body.path("stream").asBoolean(false);
                status = streams ? stream(ex, call, f) : respond(ex, call, f);
            } catch (RuntimeException e) {
                HttpError err = HttpError.from(e);
                status = err.status();
                Http.sendError(ex, err);
            } finally {
                if (f != null) inFlight.remove(f);
            }
            if (status == 200) metrics.latency(model, endpoint, (System.nanoTime() - call.start) / 1e9);
        } finally {
            slot.release();
        }
        metrics.request(model, endpoint, status);
    }

    /** Waits for the response object and sends it; a client that goes away meanwhile has its request cancelled. */
    private int respond(HttpExchange ex, Call call, CompletableFuture<Object> f) throws IOException {
        Object response;
        try {
            if (!ClientProbe.await(ex, f, options.heartbeat())) {
                f.cancel(true); // the client went away: stop generating, free the KV blocks
                metrics.cancelled(call.model);
                return CLIENT_GONE;
            }
            response = f.get();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new java.util.concurrent.CancellationException("interrupted");
        } catch (ExecutionException e) {
            HttpError err = HttpError.from(e.getCause());
            Http.sendError(ex, err);
            return err.status();
        }
        Usage u = switch (response) {
            case CompletionResponse c -> c.usage();
            case ChatCompletionResponse c -> c.usage();
            case EmbeddingResponse e -> e.usage();
            default -> null;
        };
        if (u != null) metrics.tokens(call.model, u.promptTokens(), u.completionTokens());
        Http.sendJson(ex, 200, response);
        return 200;
    }

    /**
     * Streams the chunks as Server-Sent Events. The headers wait for the first chunk, so a request that fails
     * before any token (a bad token id, a prompt the KV pool cannot hold) still gets its JSON error and status.
     */
    private int stream(HttpExchange ex, Call call, CompletableFuture<Object> f) throws IOException {
        f.whenComplete((v, e) -> call.queue.add(new End(v, e)));
        Object item = take(call.queue, f);
        if (item instanceof End end && end.error() != null) {
            HttpError err = HttpError.from(end.error());
            Http.sendError(ex, err);
            return err.status();
        }
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        OutputStream os = ex.getResponseBody();
        long heartbeat = options.heartbeat().toMillis();
        try {
            ex.sendResponseHeaders(200, 0);
            while (true) {
                if (item == null) {
                    os.write(HEARTBEAT);
                } else if (item instanceof End end) {
                    if (end.error() != null) {
                        os.write(event(HttpError.from(end.error()).body()));
                    } else if (end.value() instanceof Usage u) {
                        metrics.tokens(call.model, u.promptTokens(), u.completionTokens());
                    }
                    os.write(DONE);
                    os.flush();
                    break;
                } else {
                    os.write(event(item));
                }
                os.flush();
                item = call.queue.poll(heartbeat, TimeUnit.MILLISECONDS);
            }
            os.close();
            return 200;
        } catch (IOException e) {
            f.cancel(true); // the client went away: stop generating, free the KV blocks
            metrics.cancelled(call.model);
            return CLIENT_GONE;
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            return 503;
        }
    }

    private static Object take(BlockingQueue<Object> q, CompletableFuture<?> f) {
        try {
            return q.take();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            return new End(null, new java.util.concurrent.CancellationException("interrupted"));
        }
    }

    private static byte[] event(Object chunk) {
        return ("data: " + ApiJson.write(chunk) + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

    /** The model a request names or, without a name, the only one served that runs this endpoint. */
    static ModelSlot route(JsonNode body, String endpoint, Map<String, ModelSlot> slots) {
        JsonNode m = body.get("model");
        if (m != null && !m.isNull() && !m.isTextual()) throw ApiException.param("'model' must be a string, got " + m);
        return route(m == null || m.isNull() ? null : m.textValue(), endpoint, slots);
    }

    /** As above, for a model name (null: none given). */
    static ModelSlot route(String name, String endpoint, Map<String, ModelSlot> slots) {
        if (name == null) {
            List<ModelSlot> fit = slots.values().stream().filter(s -> serves(s.model.kind(), endpoint)).toList();
            if (fit.size() == 1) return fit.getFirst();
            if (slots.size() == 1) return slots.values().iterator().next(); // its service says what it runs instead
            throw ApiException.param("'model' is missing; this server serves " + String.join(", ", slots.keySet())
                    + ": name one");
        }
        ModelSlot s = slots.get(name);
        if (s == null) throw unknownModel(name, slots);
        return s;
    }

    private static boolean serves(ServedModel.Kind kind, String endpoint) {
        boolean audio = endpoint.startsWith("/v1/audio/");
        return switch (kind) {
            case DECODER -> !endpoint.equals(EmbeddingRequest.URL) && !audio;
            case SEQ2SEQ -> endpoint.equals(CompletionRequest.URL);
            case EMBEDDING -> endpoint.equals(EmbeddingRequest.URL);
            case SPEECH -> audio;
        };
    }

    static ApiException unknownModel(String name, Map<String, ModelSlot> slots) {
        return new ApiException("model_not_found", "model '" + name + "' is not served here; use one of: "
                + String.join(", ", slots.keySet()) + " (GET /v1/models)");
    }
}
