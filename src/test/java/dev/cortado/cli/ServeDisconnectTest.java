package dev.cortado.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.engine.Engine;
import dev.cortado.server.OpenAiServer;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client that sends a long non-streamed request and closes its connection has the request cancelled and its KV
 * blocks freed, as a streamed one does (ServeBadInputTest); a client that stays gets its answer.
 */
class ServeDisconnectTest {
    static OpenAiServer server;

    @BeforeAll
    static void start() throws Exception {
        server = ServeFixture.start(ServeFixture.loopback().heartbeat(Duration.ofMillis(50)), ServeFixture.stories());
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    private static void send(Socket s, String path, String body) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void disconnectCancels(String path, String body) throws Exception {
        Engine engine = server.engine("stories260K");
        long decodedBefore = engine.stats().decodeRows();
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            send(s, path, body);
            for (int i = 0; i < 500 && engine.pool().inUse() == 0; i++) Thread.sleep(5);
            assertTrue(engine.pool().inUse() > 0, "the request is running");
        } // the client goes away before the answer
        for (int i = 0; i < 500 && engine.pool().inUse() > 0; i++) Thread.sleep(20);
        assertEquals(0, engine.pool().inUse(), "the cancelled request's KV blocks are back in the pool");
        System.out.println("ServeDisconnectTest: " + (engine.stats().decodeRows() - decodedBefore) + " rows decoded before the cancel");
    }

    @Test
    void closedConnectionCancelsANonStreamedRequest() throws Exception {
        String prompts = "[" + String.join(",", java.util.Collections.nCopies(4,
                "\"Once upon a time\",\"The cat\",\"Lily went\",\"One day\",\"Tom had\",\"The sun\",\"A bird\",\"Max saw\"")) + "]";
        disconnectCancels("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":" + prompts
                + ",\"max_tokens\":480,\"temperature\":0}");
        HttpResponse<String> m = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url() + "/metrics"))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        // only the disconnect path counts a cancellation and a 499: the request did not just run to its end
        assertTrue(m.body().contains("cortado_requests_cancelled_total{model=\"stories260K\"} 1"), m.body());
        assertTrue(m.body().contains("status=\"499\"} 1"), m.body());
    }

    @Test
    void aClientThatStaysGetsItsAnswer() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url()
                        + "/v1/completions")).timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"Once upon a time\",\"max_tokens\":200,\"temperature\":0}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"completion_tokens\""), r.body());
    }
}
