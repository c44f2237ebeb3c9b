package dev.cortado.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import dev.cortado.api.ApiException;
import dev.cortado.api.ApiJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Reading request bodies within the limit and writing JSON responses on a JDK {@link HttpExchange}. */
final class Http {
    private Http() {}

    /** Bytes of an over-long body read and thrown away before the 413, so that the client gets to read it. */
    private static final long DRAIN_LIMIT = 64L << 20;

    /** The body as JSON: 413 past {@code max} bytes, 400 when it is not JSON. */
    static JsonNode readJson(HttpExchange ex, long max) throws IOException {
        byte[] body = readBody(ex, max);
        if (body.length == 0)
            throw new ApiException("invalid_json", "the request body is empty; send a JSON object (Content-Type: application/json)");
        try {
            JsonNode n = ApiJson.MAPPER.readTree(body);
            if (n == null || !n.isObject())
                throw new ApiException("invalid_json", "the request body must be a JSON object, got "
                        + (n == null ? "nothing" : n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
            return n;
        } catch (JsonProcessingException e) {
            String msg = e.getOriginalMessage();
            int nl = msg.indexOf('\n');
            throw new ApiException("invalid_json", "the request body is not valid JSON (" + (nl > 0 ? msg.substring(0, nl) : msg)
                    + " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr()
                    + "); send one JSON object");
        }
    }

    static byte[] readBody(HttpExchange ex, long max) throws IOException {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        InputStream in = ex.getRequestBody();
        if (declared != null && parseLong(declared) > max) {
            drain(ex, in);
            throw tooLarge(max);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(max, 1 << 16));
        byte[] buf = new byte[1 << 14];
        long total = 0;
        for (int n; (n = in.read(buf)) > 0; ) {
            total += n;
            if (total > max) {
                drain(ex, in);
                throw tooLarge(max);
            }
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    /**
     * Reads the rest of an over-long body (up to a bound) so that a client still writing it gets to read the 413
     * instead of a reset connection; past the bound the connection is closed after the response.
     */
    private static void drain(HttpExchange ex, InputStream in) throws IOException {
        byte[] buf = new byte[1 << 16];
        long left = DRAIN_LIMIT;
        for (int n; left > 0 && (n = in.read(buf)) > 0; ) left -= n;
        if (left <= 0) ex.getResponseHeaders().set("Connection", "close");
    }

    private static ApiException tooLarge(long max) {
        return new ApiException("body_too_large", "the request body is larger than the server's limit of " + max
                + " bytes; send a smaller request (or start the server with a larger --max-body)");
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static void sendJson(HttpExchange ex, int status, Object body) throws IOException {
        send(ex, status, "application/json", ApiJson.write(body).getBytes(StandardCharsets.UTF_8));
    }

    static void sendError(HttpExchange ex, HttpError e) throws IOException {
        if (e.status() == 429) ex.getResponseHeaders().set("Retry-After", "1");
        sendJson(ex, e.status(), e.body());
    }

    static void send(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        if (ex.getRequestMethod().equals("HEAD")) { // headers only (a length here makes the JDK server log a warning)
            ex.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
            ex.sendResponseHeaders(status, -1);
            ex.close();
            return;
        }
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(body);
        }
    }
}
