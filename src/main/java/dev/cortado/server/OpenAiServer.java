package dev.cortado.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.cortado.CortadoException;
import dev.cortado.api.ApiException;
import dev.cortado.api.ChatRequest;
import dev.cortado.api.CompletionRequest;
import dev.cortado.api.EmbeddingRequest;
import dev.cortado.api.ServedModel;
import dev.cortado.api.TranscriptionRequest;
import dev.cortado.engine.Engine;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code cortado serve}: the OpenAI API over HTTP on the JDK's {@code com.sun.net.httpserver}, one virtual thread
 * per exchange. Each served model keeps its own engine ({@link ServedModel}); the endpoints are those of
 * {@code batch} ({@link dev.cortado.api.OpenAiService}), plus streaming (Server-Sent Events), {@code /v1/models},
 * {@code /health} and {@code /metrics}. {@link #close()} stops gracefully: no new connections, requests under way
 * get {@link ServerOptions#shutdownGrace()} to finish and are cancelled after it, then the models are closed.
 *
 * <p>The JDK server's limits are JVM-wide system properties read once, when the first server starts:
 * {@code sun.net.httpserver.maxReqHeaderSize}, {@code maxReqTime} (a whole request must arrive within the read
 * timeout), {@code idleInterval} and {@code nodelay} (tokens leave at once) are set from the options unless the JVM
 * was started with them.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final Set<String> KNOWN_PATHS = Set.of(CompletionRequest.URL, ChatRequest.URL, EmbeddingRequest.URL,
            TranscriptionRequest.URL, TranscriptionRequest.TRANSLATIONS_URL, "/v1/models", "/health", "/metrics");

    private final ServerOptions options;
    private final Map<String, ModelSlot> slots = new LinkedHashMap<>();
    private final Metrics metrics = new Metrics();
    private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();
    private final ExecutorService exchanges = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpServer http;
    private final ApiHandler api;
    private final AudioHandler audio;
    private final byte[] apiKey;
    private volatile boolean draining;
    private boolean closed;

    /** Binds and starts serving {@code models} (owned: closed with the server). */
    public OpenAiServer(List<ServedModel> models, ServerOptions options) throws IOException {
        if (models.isEmpty()) throw new CortadoException("no model to serve; give --model PATH");
        this.options = options;
        for (ServedModel m : models)
            if (slots.putIfAbsent(m.name(), new ModelSlot(m, options.maxQueue())) != null)
                throw new CortadoException("two models are named '" + m.name() + "'; name them with --model NAME=PATH");
        this.apiKey = options.apiKey() == null ? null : options.apiKey().getBytes(StandardCharsets.UTF_8);
        this.api = new ApiHandler(options, metrics, inFlight);
        this.audio = new AudioHandler(options, metrics, inFlight);
        applyLimits(options);
        this.http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 128);
        http.setExecutor(exchanges);
        http.createContext("/", this::dispatch);
        http.start();
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    /** {@code http://host:port}. */
    public String url() {
        String h = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return "http://" + h + ":" + port();
    }

    public List<String> modelNames() {
        return List.copyOf(slots.keySet());
    }

    /** The engine of a served decoder model (null for other kinds), for stats and tests. */
    public Engine engine(String model) {
        ModelSlot s = slots.get(model);
        return s == null ? null : s.model.engine();
    }

    private static void applyLimits(ServerOptions o) {
        setIfAbsent("sun.net.httpserver.maxReqHeaderSize", Integer.toString(o.maxHeaderBytes()));
        setIfAbsent("sun.net.httpserver.maxReqTime", Long.toString(Math.max(1, o.readTimeout().toSeconds())));
        setIfAbsent("sun.net.httpserver.idleInterval", Long.toString(Math.max(1, o.idleTimeout().toSeconds())));
        setIfAbsent("sun.net.httpserver.nodelay", "true");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }

    private void dispatch(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath(), method = ex.getRequestMethod();
        try (ex) {
            try {
                if (draining) throw new ApiException("shutting_down", "the server is shutting down; retry on another instance");
                switch (path) {
                    case "/health" -> health(ex, method);
                    case "/metrics" -> {
                        authorize(ex);
                        expect(method, "GET");
                        Http.send(ex, 200, "text/plain; version=0.0.4; charset=utf-8",
                                metrics.render(this::gauges).getBytes(StandardCharsets.UTF_8));
                    }
                    case "/v1/models" -> {
                        authorize(ex);
                        expect(method, "GET");
                        List<Object> data = new ArrayList<>();
                        for (ModelSlot s : slots.values()) data.add(model(s));
                        Http.sendJson(ex, 200, Map.of("object", "list", "data", data));
                    }
                    case CompletionRequest.URL, ChatRequest.URL, EmbeddingRequest.URL -> {
                        authorize(ex);
                        expect(method, "POST");
                        api.post(ex, path, slots);
                    }
                    case TranscriptionRequest.URL, TranscriptionRequest.TRANSLATIONS_URL -> {
                        authorize(ex);
                        expect(method, "POST");
                        audio.post(ex, path, slots);
                    }
                    default -> {
                        if (path.startsWith("/v1/models/")) {
                            authorize(ex);
                            expect(method, "GET");
                            ModelSlot s = slots.get(path.substring("/v1/models/".length()));
                            if (s == null) throw ApiHandler.unknownModel(path.substring("/v1/models/".length()), slots);
                            Http.sendJson(ex, 200, model(s));
                        } else {
                            throw new ApiException("not_found", "no endpoint " + method + " " + path + "; this server has "
                                    + "/v1/completions, /v1/chat/completions, /v1/embeddings, /v1/audio/transcriptions, "
                                    + "/v1/audio/translations, /v1/models, /health, /metrics");
                        }
                    }
                }
            } catch (RuntimeException e) {
                HttpError err = HttpError.from(e);
                metrics.request("", KNOWN_PATHS.contains(path) ? path : "other", err.status()); // bounded label values
                Http.sendError(ex, err);
            }
        } catch (IOException e) {
            // the client went away while we answered: nothing to tell it
        }
    }

    private static Map<String, Object> model(ModelSlot s) {
        return Map.of("id", s.name(), "object", "model", "created", s.created, "owned_by", "cortado");
    }

    private void health(HttpExchange ex, String method) throws IOException {
        expect(method, "GET");
        Http.sendJson(ex, 200, Map.of("status", "ok", "models", modelNames()));
    }

    private static void expect(String method, String want) {
        if (!method.equals(want) && !(want.equals("GET") && method.equals("HEAD")))
            throw new ApiException("method_not_allowed", "method " + method + " is not allowed here; use " + want);
    }

    private void authorize(HttpExchange ex) {
        if (apiKey == null) return;
        String h = ex.getRequestHeaders().getFirst("Authorization");
        if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7))
            throw new ApiException("invalid_api_key", "missing API key; send the header 'Authorization: Bearer KEY' "
                    + "with the key the server was started with");
        byte[] given = h.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, apiKey))
            throw new ApiException("invalid_api_key", "incorrect API key; send the key the server was started with "
                    + "(--api-key or CORTADO_API_KEY)");
    }

    private void gauges(StringBuilder out) {
        Map<String, Number> depth = new LinkedHashMap<>(), used = new LinkedHashMap<>(), blocks = new LinkedHashMap<>(),
                preempt = new LinkedHashMap<>();
        for (ModelSlot s : slots.values()) {
            String l = Metrics.labels("model", s.name());
            depth.put(l, s.inFlight());
            Engine e = s.model.engine();
            if (e != null) {
                Engine.Stats st = e.stats();
                used.put(l, st.blocksInUse());
                blocks.put(l, st.blocks());
                preempt.put(l, st.preemptions());
            }
        }
        Metrics.gauge(out, "cortado_queue_depth", "requests held by the model (running or waiting)", depth);
        Metrics.gauge(out, "cortado_kv_blocks_in_use", "KV cache blocks in use", used);
        Metrics.gauge(out, "cortado_kv_blocks", "KV cache blocks in the pool", blocks);
        Metrics.gauge(out, "cortado_engine_preemptions", "sequences preempted (recomputed later) since start", preempt);
    }

    /**
     * Stops gracefully: refuses new requests (503), stops accepting connections, waits up to the grace period for
     * requests under way, cancels the rest (their KV blocks are freed), then closes the models.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        draining = true;
        Thread stopper = Thread.ofVirtual().start(() -> http.stop((int) Math.max(0, options.shutdownGrace().toSeconds())));
        try {
            long deadline = System.nanoTime() + options.shutdownGrace().toNanos();
            while (!inFlight.isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
            for (CompletableFuture<?> f : inFlight) f.cancel(true);
            stopper.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        exchanges.shutdown();
        for (ModelSlot s : slots.values()) s.close();
    }
}
