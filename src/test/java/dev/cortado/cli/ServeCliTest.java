package dev.cortado.cli;

import static dev.cortado.cli.CliErrorsTest.assertOneLineError;
import static dev.cortado.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.server.ServerOptions;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code cortado serve} as a command: a child JVM prints its ready line, serves NAME=PATH models, and on SIGTERM
 * finishes the stream under way, says so and exits with code 0; option errors are one line.
 */
class ServeCliTest {
    static final Pattern READY = Pattern.compile("cortado: serving (.+) on (http://127\\.0\\.0\\.1:\\d+)");

    @Test
    void childServesNamedModelsAndStopsGracefullyOnSigterm() throws Exception {
        Path stories = ServeFixture.stories();
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dcortado.packCache=false", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "--port", "0",
                "--model", "tiny=" + stories, "--model", "models/cortado-en-de", "--shutdown-grace", "20");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) lines.add(l);
            } catch (java.io.IOException e) {
                // process gone
            }
        });
        try {
            String url = null;
            StringBuilder log = new StringBuilder();
            while (url == null) {
                String l = lines.poll(120, TimeUnit.SECONDS);
                assertTrue(l != null, "no ready line: " + log);
                log.append(l).append('\n');
                Matcher m = READY.matcher(l);
                if (m.find()) {
                    assertEquals("tiny, cortado-en-de", m.group(1));
                    url = m.group(2);
                }
            }
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(models.body().contains("\"id\":\"tiny\""), models.body());
            String body = "{\"model\":\"tiny\",\"prompt\":\"Once upon a time\",\"max_tokens\":60,\"temperature\":0,\"stream\":true}";
            HttpResponse<InputStream> streaming = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, streaming.statusCode());
            p.toHandle().destroy(); // SIGTERM while the stream is under way (Process.destroy would also close our pipes)
            String events = new String(streaming.body().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(events.trim().endsWith("data: [DONE]"), "the stream under way finished: " + events);
            StringBuilder text = new StringBuilder();
            for (String l : events.split("\n"))
                if (l.startsWith("data: {")) {
                    JsonNode chunk = ServeFixture.M.readTree(l.substring(6));
                    for (JsonNode c : chunk.get("choices")) text.append(c.get("text").asText());
                }
            String want = ServeFixture.direct(stories, ServeFixture.base(stories).maxNewTokens(60), List.of("Once upon a time"))
                    .getFirst().text();
            assertEquals(want, text.toString());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "stopped");
            assertEquals(0, p.exitValue(), "exit code 0 after SIGTERM");
            StringBuilder rest = new StringBuilder();
            for (String l; (l = lines.poll(5, TimeUnit.SECONDS)) != null; ) rest.append(l).append('\n');
            assertTrue(rest.toString().contains("cortado: stopped"), "after the ready line: [" + rest + "]");
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void optionErrorsAreOneLine() throws Exception {
        String m = ServeFixture.stories().toString();
        assertOneLineError(run("serve", "--model", "nowhere/model"), "model not found: nowhere/model");
        assertOneLineError(run("serve", "--model", "bad name=" + m), "the name 'bad name'");
        assertOneLineError(run("serve", "--model", "a=" + m, "--model", "a=" + m), "two models are named 'a'");
        assertOneLineError(run("serve", "--model", m, "--max-queue", "0"), "--max-queue must be ≥ 1");
        assertOneLineError(run("serve", "--model", m, "--max-body", "lots"), "'lots'");
        assertOneLineError(run("serve", "--model", m, "--port", "70000"), "--port 70000 is out of range");
        assertOneLineError(run("serve", "--model", m, "--kv-memory", "x"), "'x'");
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertOneLineError(run("serve", "--model", m, "--port", Integer.toString(taken.getLocalPort())),
                    "cannot listen on 127.0.0.1:" + taken.getLocalPort());
        }
    }

    @Test
    void loopbackIsTheDefaultAndOtherAddressesAreKnownAsSuch() {
        assertTrue(ServerOptions.defaults().loopback());
        assertTrue(ServerOptions.defaults().host("localhost").loopback());
        assertTrue(ServerOptions.defaults().host("::1").loopback());
        assertFalse(ServerOptions.defaults().host("0.0.0.0").loopback());
        assertEquals(Duration.ofSeconds(30), ServerOptions.defaults().readTimeout());
    }
}
