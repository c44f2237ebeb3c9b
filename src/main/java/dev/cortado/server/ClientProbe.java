package dev.cortado.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Notices that the client of a non-streamed request went away while the request runs, so that it can be cancelled
 * (and its KV blocks freed), as llama.cpp's server and vLLM do by watching the connection.
 *
 * <p>The JDK server gives a handler no way to see the connection: once the request body is read its stream answers
 * EOF without touching the socket, an interim (1xx) response ends the exchange's headers, and the socket is not
 * exposed. So the probe reaches the exchange's {@link SocketChannel} through the server's internals, which needs
 * {@code --add-opens jdk.httpserver/sun.net.httpserver=ALL-UNNAMED} (the jar's manifest, the launchers and the
 * tests give it); without it {@link #available()} is false and a request whose client left runs to its end, as
 * before. A probe is one non-blocking read of at most one byte: -1 (the client closed its side) or an error (it
 * reset the connection) means gone. A byte means the client pipelined its next request: the byte cannot be put
 * back, so probing stops and the connection is closed after this response ({@code Connection: close}), which makes
 * a pipelining client send that request again.
 */
final class ClientProbe {
    private ClientProbe() {}

    /** The longest time between two probes. */
    static final Duration MAX_INTERVAL = Duration.ofMillis(500);

    /** HttpExchangeImpl → ExchangeImpl → HttpConnection → SocketChannel; null when the internals are closed to us. */
    private static final MethodHandle IMPL, CONNECTION, CHANNEL;

    static {
        MethodHandle impl = null, conn = null, chan = null;
        try {
            Module jdk = HttpServer.class.getModule();
            if (jdk.isOpen("sun.net.httpserver", ClientProbe.class.getModule())) {
                Class<?> hx = Class.forName("sun.net.httpserver.HttpExchangeImpl");
                Class<?> ex = Class.forName("sun.net.httpserver.ExchangeImpl");
                Class<?> hc = Class.forName("sun.net.httpserver.HttpConnection");
                MethodHandles.Lookup l = MethodHandles.privateLookupIn(hx, MethodHandles.lookup());
                impl = l.findVirtual(hx, "getExchangeImpl", MethodType.methodType(ex));
                conn = l.findVirtual(ex, "getConnection", MethodType.methodType(hc));
                chan = l.findVirtual(hc, "getChannel", MethodType.methodType(SocketChannel.class));
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            impl = conn = chan = null; // another JDK's internals: no probing
        }
        IMPL = impl;
        CONNECTION = conn;
        CHANNEL = chan;
    }

    /** Whether this JVM lets the probe see connections. */
    static boolean available() {
        return CHANNEL != null;
    }

    /**
     * Waits for {@code f}, probing the client every {@code every} (at most {@link #MAX_INTERVAL}). Returns true when
     * {@code f} is done, false as soon as the client is gone (the caller cancels {@code f}).
     */
    static boolean await(HttpExchange ex, Future<?> f, Duration every) throws InterruptedException {
        SocketChannel ch = channel(ex);
        long ms = Math.max(1, Math.min(every.toMillis(), MAX_INTERVAL.toMillis()));
        while (!f.isDone()) {
            if (ch == null) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
                    // done: the caller reads the outcome
                }
                return true;
            }
            try {
                f.get(ms, TimeUnit.MILLISECONDS);
                return true;
            } catch (TimeoutException e) {
                switch (probe(ch)) {
                    case GONE -> { return false; }
                    case DATA -> {
                        ex.getResponseHeaders().set("Connection", "close");
                        ch = null;
                    }
                    case THERE -> {}
                }
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
                return true;
            }
        }
        return true;
    }

    private enum State { THERE, GONE, DATA }

    private static SocketChannel channel(HttpExchange ex) {
        if (CHANNEL == null || !ex.getClass().getName().equals("sun.net.httpserver.HttpExchangeImpl")) return null;
        try {
            return (SocketChannel) CHANNEL.invoke(CONNECTION.invoke(IMPL.invoke(ex)));
        } catch (Throwable t) {
            return null;
        }
    }

    /** One non-blocking read of at most a byte; the channel is back in blocking mode after it. */
    private static State probe(SocketChannel ch) {
        synchronized (ch.blockingLock()) {
            try {
                ch.configureBlocking(false);
                try {
                    int n = ch.read(ByteBuffer.allocate(1));
                    return n < 0 ? State.GONE : n == 0 ? State.THERE : State.DATA;
                } finally {
                    ch.configureBlocking(true);
                }
            } catch (IOException | RuntimeException e) {
                return State.GONE; // reset by the peer, or closed under us
            }
        }
    }
}
