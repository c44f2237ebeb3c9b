package dev.cortado.server;

import dev.cortado.CortadoException;
import dev.cortado.api.ApiException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An error as OpenAI returns it: an HTTP status and {@code {"error":{"message","type","param","code"}}}. Bad input
 * is always a 4xx; only an internal failure is a 500.
 */
record HttpError(int status, String type, String code, String message, String param) {
    private static final Pattern PARAM = Pattern.compile("^'([a-z_\\[\\]0-9.]+)'");

    static HttpError of(int status, String code, String message) {
        String type = switch (status) {
            case 401 -> "authentication_error";
            case 404 -> code.equals("model_not_found") ? "invalid_request_error" : "not_found_error";
            case 429 -> "rate_limit_error";
            case 500, 503 -> "server_error";
            default -> "invalid_request_error";
        };
        return new HttpError(status, type, code, message, null);
    }

    /** The error for a request that failed with {@code t}. */
    static HttpError from(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null)
            t = t.getCause();
        if (t instanceof ApiException a) {
            int status = switch (a.code()) {
                case "model_not_found", "not_found" -> 404;
                case "invalid_api_key" -> 401;
                case "method_not_allowed" -> 405;
                case "body_too_large" -> 413;
                case "queue_full" -> 429;
                case "shutting_down" -> 503;
                default -> 400;
            };
            HttpError e = of(status, a.code(), a.getMessage());
            Matcher m = PARAM.matcher(a.getMessage());
            return m.find() ? new HttpError(e.status, e.type, e.code, e.message, m.group(1)) : e;
        }
        if (t instanceof CancellationException)
            return of(503, "cancelled", "the request was cancelled (the server is shutting down); retry it");
        if (t instanceof CortadoException c) {
            if (c.getMessage() != null && c.getMessage().startsWith("engine is closed"))
                return of(503, "shutting_down", "the server is shutting down; retry on another instance");
            return of(400, "invalid_request", c.getMessage()); // the engine's checks of a request (vocabulary, KV pool fit…)
        }
        return of(500, "server_error", t.getClass().getSimpleName() + ": " + t.getMessage()
                + " (an internal error: please report it)");
    }

    /** The response body. */
    Map<String, Object> body() {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("message", message);
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        return Map.of("error", e);
    }
}
