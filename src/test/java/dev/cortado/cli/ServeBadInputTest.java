package dev.cortado.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.errors.UnauthorizedException;
import com.openai.models.completions.CompletionCreateParams;
import dev.cortado.engine.DefaultModels;
import dev.cortado.engine.Engine;
import dev.cortado.server.OpenAiServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad input gets an OpenAI-shaped error ({@code {"error":{"message","type","param","code"}}}) with the right 4xx
 * status, never a 500 and never a hang: malformed JSON, wrong types, out-of-range knobs (unknown fields are
 * ignored, as OpenAI does), a 10 MB body, a missing or wrong key, unknown models and paths, a chat request to a
 * model without a chat template, a full queue; and a client that disconnects mid-stream has its request
 * cancelled and its KV blocks freed.
 */
class ServeBadInputTest {
    static OpenAiServer server, keyed;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        server = ServeFixture.start(ServeFixture.loopback().heartbeat(Duration.ofMillis(100)), ServeFixture.stories(),
                DefaultModels.minilm());
        keyed = ServeFixture.start(ServeFixture.loopback().apiKey("sekret").maxQueue(1), ServeFixture.stories());
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (keyed != null) keyed.close();
    }

    record Reply(int status, JsonNode body, HttpResponse<String> raw) {}

    static Reply post(OpenAiServer s, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.url() + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return reply(HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()));
    }

    static Reply get(OpenAiServer s, String path) throws Exception {
        return reply(HTTP.send(HttpRequest.newBuilder(URI.create(s.url() + path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString()));
    }

    static Reply reply(HttpResponse<String> r) throws Exception {
        JsonNode body = r.body().startsWith("{") ? ServeFixture.M.readTree(r.body()) : null;
        return new Reply(r.statusCode(), body, r);
    }

    /** The reply is an OpenAI error with this status whose one-line message contains {@code words}. */
    static JsonNode assertError(Reply r, int status, String code, String words) {
        assertEquals(status, r.status(), () -> r.raw().body());
        JsonNode e = r.body().get("error");
        assertTrue(e != null && e.has("message") && e.has("type") && e.has("param") && e.has("code"), r.raw().body());
        String msg = e.get("message").asText();
        assertTrue(msg.contains(words), "'" + msg + "' should contain '" + words + "'");
        assertFalse(msg.contains("\n") || msg.contains("\tat "), msg);
        if (code != null) assertEquals(code, e.get("code").asText());
        return e;
    }

    @Test
    void malformedJsonIs400() throws Exception {
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\","), 400, "invalid_json", "not valid JSON");
        assertError(post(server, "/v1/completions", "[1, 2]"), 400, "invalid_json", "must be a JSON object");
        assertError(post(server, "/v1/completions", ""), 400, "invalid_json", "empty");
        assertError(post(server, "/v1/chat/completions", "not json"), 400, "invalid_json", "not valid JSON");
    }

    @Test
    void wrongTypesAre400NamingTheField() throws Exception {
        JsonNode e = assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":\"ten\"}"), 400, null,
                "'max_tokens' must be an integer");
        assertEquals("max_tokens", e.get("param").asText());
        assertError(post(server, "/v1/completions", "{\"prompt\":5}"), 400, null, "'prompt' must be");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"model\":5}"), 400, null, "'model' must be a string");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"stream\":\"yes\"}"), 400, null, "'stream' must be true or false");
        assertError(post(server, "/v1/embeddings", "{\"input\":[1,2],\"model\":\"all-minilm-l6-v2\"}"), 400, null, "'input' must be");
    }

    @Test
    void unknownFieldsAreIgnoredButOutOfRangeValuesAre400() throws Exception {
        Reply ok = post(server, "/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":3,\"temperature\":0,"
                + "\"some_future_knob\":{\"a\":1},\"metadata\":null}");
        assertEquals(200, ok.status(), ok.raw().body());
        assertEquals(3, ok.body().at("/usage/completion_tokens").asInt());
        Reply emb = post(server, "/v1/embeddings", "{\"input\":\"hi\",\"stream\":true,\"dimensions_hint\":3}");
        assertEquals(200, emb.status(), emb.raw().body());
        assertEquals(384, emb.body().at("/data/0/embedding").size(), "embeddings do not stream: stream is ignored");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"temperature\":3}"), 400, null,
                "'temperature' = 3 is out of range; it must be between 0 and 2");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"top_p\":1.5}"), 400, null, "'top_p' = 1.5");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"n\":0}"), 400, null, "'n' = 0");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":-1}"), 400, null, "'max_tokens' = -1");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"logprobs\":21}"), 400, null, "'logprobs' = 21");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":100000}"), 400,
                "context_length_exceeded", "max_tokens = 100000");
        assertError(post(server, "/v1/completions", "{\"prompt\":[1, 99999]}"), 400, null, "outside the vocabulary");
        assertError(post(server, "/v1/completions", "{\"prompt\":[1, 99999],\"stream\":true}"), 400, null, "outside the vocabulary");
        assertError(post(server, "/v1/completions", "{\"prompt\":\"x\",\"stream_options\":{\"include_usage\":true}}"), 400,
                null, "stream_options needs stream: true");
    }

    @Test
    void tenMegabyteBodyIs413() throws Exception {
        byte[] big = new byte[10 << 20];
        Arrays.fill(big, (byte) 'a');
        String body = "{\"prompt\":\"" + new String(big, StandardCharsets.US_ASCII) + "\"}";
        assertError(post(server, "/v1/completions", body), 413, "body_too_large", "larger than the server's limit");
        assertEquals(200, get(server, "/health").status(), "the server still answers");
    }

    @Test
    void headersOverTheLimitCloseTheConnectionAndTheServerGoesOn() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            String big = "x".repeat(100 << 10); // > the 64 KiB header limit
            try {
                out.write(("GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + big + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                byte[] reply = s.getInputStream().readAllBytes();
                assertFalse(new String(reply, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200"), "refused");
            } catch (java.net.SocketException e) {
                // reset while we were still writing: refused as well
            }
        }
        assertEquals(200, get(server, "/health").status(), "the server still answers");
    }

    @Test
    void missingOrWrongKeyIs401() throws Exception {
        String body = "{\"prompt\":\"Once\",\"max_tokens\":2}";
        assertError(post(keyed, "/v1/completions", body), 401, "invalid_api_key", "missing API key");
        assertError(post(keyed, "/v1/completions", body, "Authorization", "Bearer wrong"), 401, "invalid_api_key", "incorrect API key");
        assertEquals(401, get(keyed, "/v1/models").status());
        assertEquals(200, post(keyed, "/v1/completions", body, "Authorization", "Bearer sekret").status());
        assertEquals(200, get(keyed, "/health").status(), "health needs no key");
        var wrong = ServeFixture.client(keyed, "wrong");
        try {
            assertThrows(UnauthorizedException.class, () -> wrong.completions().create(
                    CompletionCreateParams.builder().model("stories260K").prompt("x").maxTokens(2).build()));
        } finally {
            wrong.close();
        }
        var right = ServeFixture.client(keyed, "sekret");
        try {
            assertEquals(2, right.completions().create(CompletionCreateParams.builder().model("stories260K").prompt("x")
                    .maxTokens(2).temperature(0.0).build()).usage().orElseThrow().completionTokens());
        } finally {
            right.close();
        }
    }

    @Test
    void unknownModelPathAndMethod() throws Exception {
        assertError(post(server, "/v1/completions", "{\"model\":\"gpt-4\",\"prompt\":\"x\"}"), 404, "model_not_found",
                "model 'gpt-4' is not served here; use one of: stories260K, all-minilm-l6-v2");
        assertError(get(server, "/v1/models/gpt-4"), 404, "model_not_found", "gpt-4");
        assertEquals("stories260K", get(server, "/v1/models/stories260K").body().get("id").asText());
        assertError(post(server, "/v1/images/generations", "{}"), 404, "not_found", "no endpoint POST /v1/images/generations");
        assertError(get(server, "/v1/completions"), 405, "method_not_allowed", "use POST");
    }

    @Test
    void wrongEndpointForTheModelIs400() throws Exception {
        assertError(post(server, "/v1/chat/completions", "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"hi\"}]}"), 400, "chat_template_missing", "has no chat_template");
        assertError(post(server, "/v1/embeddings", "{\"model\":\"stories260K\",\"input\":\"hi\"}"), 400, null,
                "needs an embedding model");
        assertError(post(server, "/v1/chat/completions", "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\"}]}"), 400, null, "tools[0] must be {\"type\":\"function\"");
    }

    @Test
    void fullQueueIs429AtOnceNeverAHang() throws Exception {
        String auth = "Bearer sekret";
        String longStream = "{\"prompt\":\"Once upon a time\",\"max_tokens\":400,\"temperature\":0,\"stream\":true}";
        HttpRequest hold = HttpRequest.newBuilder(URI.create(keyed.url() + "/v1/completions")).header("Authorization", auth)
                .POST(HttpRequest.BodyPublishers.ofString(longStream)).build();
        HttpResponse<InputStream> held = HTTP.send(hold, HttpResponse.BodyHandlers.ofInputStream()); // headers: it is running
        try (InputStream in = held.body()) {
            assertEquals(200, held.statusCode());
            long t0 = System.nanoTime();
            Reply r = post(keyed, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":2}", "Authorization", auth);
            assertError(r, 429, "queue_full", "already holds 1 requests (--max-queue)");
            assertEquals("1", r.raw().headers().firstValue("Retry-After").orElseThrow());
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "refused at once");
        }
        Engine engine = keyed.engine("stories260K");
        for (int i = 0; i < 500 && (engine.pool().inUse() > 0); i++) Thread.sleep(20);
        for (int i = 0; i < 100; i++) {
            Reply r = post(keyed, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":2}", "Authorization", auth);
            if (r.status() == 200) return; // the held request was cancelled or finished: its place is free again
            Thread.sleep(50);
        }
        throw new AssertionError("the queue place was never given back");
    }

    @Test
    void clientDisconnectMidStreamCancelsTheRequestAndFreesItsBlocks() throws Exception {
        Engine engine = server.engine("stories260K");
        String body = "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":480,\"temperature\":0,\"stream\":true}";
        long decodedBefore = engine.stats().decodeRows();
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            String seen = "";
            byte[] buf = new byte[256];
            while (!seen.contains("data: {")) {
                int n = in.read(buf);
                assertTrue(n > 0, "stream ended early: " + seen);
                seen += new String(buf, 0, n, StandardCharsets.UTF_8);
            }
            assertTrue(seen.startsWith("HTTP/1.1 200"), seen);
            assertTrue(engine.pool().inUse() > 0 || engine.stats().decodeRows() > decodedBefore, "the request is running");
        } // the client goes away mid-stream
        for (int i = 0; i < 500 && engine.pool().inUse() > 0; i++) Thread.sleep(20);
        assertEquals(0, engine.pool().inUse(), "the cancelled request's KV blocks are back in the pool");
        String metrics = get(server, "/metrics").raw().body();
        assertTrue(metrics.contains("cortado_requests_cancelled_total{model=\"stories260K\"} 1"), metrics);
        assertTrue(metrics.contains("status=\"499\"} 1"), metrics);
        assertTrue(engine.stats().decodeRows() - decodedBefore < 470, "generation stopped before max_tokens: "
                + (engine.stats().decodeRows() - decodedBefore) + " rows decoded");
    }

    @Test
    void healthAndMetrics() throws Exception {
        HttpResponse<String> head = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "/health"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
        Reply h = get(server, "/health");
        assertEquals(200, h.status());
        assertEquals("ok", h.body().get("status").asText());
        String m = get(server, "/metrics").raw().body();
        for (String name : new String[] {"cortado_requests_total", "cortado_queue_depth{model=\"stories260K\"} 0",
                "cortado_kv_blocks_in_use{model=\"stories260K\"}", "cortado_time_to_first_token_seconds",
                "cortado_request_duration_seconds", "# TYPE cortado_request_duration_seconds histogram"})
            assertTrue(m.contains(name), name + " in\n" + m);
    }
}
