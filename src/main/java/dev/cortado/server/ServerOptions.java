package dev.cortado.server;

import dev.cortado.CortadoException;
import java.time.Duration;

/**
 * Limits and settings of {@link OpenAiServer}. {@code apiKey} null = no authentication. {@code maxQueue}: requests
 * one model holds at once (running or waiting for the engine); one more gets 429. {@code maxBodyBytes}: a larger
 * request body gets 413. {@code maxHeaderBytes}, {@code readTimeout} (to receive a whole request) and
 * {@code idleTimeout} (of a kept-alive connection) are the JDK server's limits. {@code shutdownGrace}: how long a
 * stop waits for requests under way before it cancels them. {@code heartbeat}: an SSE comment is sent on a quiet
 * stream this often, so that a client that went away is noticed (and its request cancelled) even between tokens.
 */
public record ServerOptions(String host, int port, String apiKey, int maxQueue, long maxBodyBytes, int maxHeaderBytes,
                            Duration readTimeout, Duration idleTimeout, Duration shutdownGrace, Duration heartbeat) {
    public ServerOptions {
        if (host == null || host.isBlank()) throw new CortadoException("--host is empty; give an address such as 127.0.0.1");
        if (port < 0 || port > 65535) throw new CortadoException("--port " + port + " is out of range; use 0 to 65535 (0 = any free port)");
        if (apiKey != null && apiKey.isBlank()) throw new CortadoException("the API key is empty; give a key or leave it out");
        if (maxQueue < 1) throw new CortadoException("--max-queue must be ≥ 1, got " + maxQueue);
        if (maxBodyBytes < 1024) throw new CortadoException("the request body limit must be ≥ 1k, got " + maxBodyBytes);
        if (maxHeaderBytes < 1024) throw new CortadoException("the header size limit must be ≥ 1k, got " + maxHeaderBytes);
        for (Duration d : new Duration[] {readTimeout, idleTimeout, heartbeat})
            if (d.isNegative() || d.isZero()) throw new CortadoException("server timeouts must be positive, got " + d);
        if (shutdownGrace.isNegative()) throw new CortadoException("shutdown grace must be ≥ 0, got " + shutdownGrace);
    }

    /** Loopback, port 8080, no key, 256 requests per model, 4 MiB bodies, 64 KiB headers, 30 s timeouts. */
    public static ServerOptions defaults() {
        return new ServerOptions("127.0.0.1", 8080, null, 256, 4L << 20, 64 << 10, Duration.ofSeconds(30),
                Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(10));
    }

    public ServerOptions host(String h) {
        return new ServerOptions(h, port, apiKey, maxQueue, maxBodyBytes, maxHeaderBytes, readTimeout, idleTimeout, shutdownGrace, heartbeat);
    }

    public ServerOptions port(int p) {
        return new ServerOptions(host, p, apiKey, maxQueue, maxBodyBytes, maxHeaderBytes, readTimeout, idleTimeout, shutdownGrace, heartbeat);
    }

    public ServerOptions apiKey(String k) {
        return new ServerOptions(host, port, k, maxQueue, maxBodyBytes, maxHeaderBytes, readTimeout, idleTimeout, shutdownGrace, heartbeat);
    }

    public ServerOptions maxQueue(int n) {
        return new ServerOptions(host, port, apiKey, n, maxBodyBytes, maxHeaderBytes, readTimeout, idleTimeout, shutdownGrace, heartbeat);
    }

    public ServerOptions maxBodyBytes(long n) {
        return new ServerOptions(host, port, apiKey, maxQueue, n, maxHeaderBytes, readTimeout, idleTimeout, shutdownGrace, heartbeat);
    }

    public ServerOptions shutdownGrace(Duration d) {
        return new ServerOptions(host, port, apiKey, maxQueue, maxBodyBytes, maxHeaderBytes, readTimeout, idleTimeout, d, heartbeat);
    }

    public ServerOptions heartbeat(Duration d) {
        return new ServerOptions(host, port, apiKey, maxQueue, maxBodyBytes, maxHeaderBytes, readTimeout, idleTimeout, shutdownGrace, d);
    }

    /** Whether {@link #host} is a loopback address (127.0.0.0/8, ::1, localhost). */
    public boolean loopback() {
        try {
            return java.net.InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            throw new CortadoException("--host '" + host + "' is not a known address; use an IP address such as 127.0.0.1");
        }
    }
}
