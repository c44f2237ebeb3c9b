package dev.cortado.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.CortadoException;
import dev.cortado.api.ApiJson;
import dev.cortado.api.ServedModel;
import dev.cortado.engine.DecoderModel;
import dev.cortado.engine.Engine;
import dev.cortado.engine.EngineOptions;
import dev.cortado.server.OpenAiServer;
import dev.cortado.server.ServerOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code bench serve --http}: the serving engine behind {@code cortado serve}'s HTTP server on a loopback port,
 * driven by the JDK's HTTP client: each request is a streamed {@code /v1/completions} with its prompt as token ids
 * and {@code return_token_ids} (so the tokens and their arrival times are those the client sees), greedy, exactly
 * its own length (the served defaults have no EOS, as the other systems). Compared with {@code engine} (the same
 * engine called in-process) it measures what HTTP, JSON and SSE add per request and per token.
 */
final class ServeHttpSystem implements ServeSystems.Server {
    static final String NAME = "http";

    private final OpenAiServer server;
    private final Engine engine;
    private final Engine.Stats before;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final URI uri;

    ServeHttpSystem(DecoderModel model, EngineOptions options) {
        ServedModel served = ServedModel.decoder("bench", model, null, null, dev.cortado.generate.GenerationConfig.greedy(),
                options, false);
        try {
            server = new OpenAiServer(List.of(served), ServerOptions.defaults().port(0).maxQueue(1 << 16)
                    .shutdownGrace(Duration.ZERO));
        } catch (IOException e) {
            served.close();
            throw new CortadoException("bench serve --http: cannot listen on a loopback port: " + e.getMessage(), e);
        }
        engine = server.engine("bench");
        before = engine.stats();
        uri = URI.create(server.url() + "/v1/completions");
        engine.pool().resetPeak();
    }

    @Override
    public void submit(ServeLoad.Trace t) {
        String body = ApiJson.write(Map.of("model", "bench", "prompt", t.req.prompt(), "max_tokens", t.req.maxNew(),
                "temperature", 0, "stream", true, "return_token_ids", true));
        HttpRequest req = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        http.sendAsync(req, HttpResponse.BodyHandlers.ofLines()).whenComplete((r, e) -> {
            if (e != null) {
                t.fail(e);
                return;
            }
            Thread.ofVirtual().start(() -> read(t, r));
        });
    }

    private static void read(ServeLoad.Trace t, HttpResponse<Stream<String>> r) {
        try (Stream<String> lines = r.body()) {
            if (r.statusCode() != 200) {
                t.fail(new CortadoException("HTTP " + r.statusCode() + ": " + String.join(" ", lines.toList())));
                return;
            }
            for (String l : (Iterable<String>) lines::iterator) {
                if (!l.startsWith("data: {")) continue;
                JsonNode chunk = ApiJson.MAPPER.readTree(l.substring(6));
                if (chunk.has("error")) throw new CortadoException(chunk.get("error").path("message").asText());
                for (JsonNode c : chunk.path("choices"))
                    for (JsonNode id : c.path("token_ids")) t.token(id.intValue());
            }
            t.complete();
        } catch (IOException | RuntimeException e) {
            t.fail(e);
        }
    }

    @Override
    public int kvPeak() {
        return engine.pool().peakInUse();
    }

    @Override
    public Map<String, Object> extra() {
        Engine.Stats s = engine.stats();
        long iters = s.iterations() - before.iterations(), rows = s.decodeRows() - before.decodeRows();
        return Map.of("iterations", iters, "decode_rows", rows, "mean_decode_rows", iters == 0 ? 0.0 : (double) rows / iters,
                "preemptions", s.preemptions() - before.preemptions(), "transport", "HTTP/1.1 SSE over loopback");
    }

    @Override
    public void close() {
        server.close();
        http.close();
    }
}
