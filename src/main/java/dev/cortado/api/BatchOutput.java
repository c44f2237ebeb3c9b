package dev.cortado.api;

import java.util.UUID;

/**
 * One line of an OpenAI Batch output file: either {@code response} (status 200 and the endpoint's response
 * body) or {@code error} (why the line could not run); the other is null.
 */
public record BatchOutput(String id, String customId, Response response, Error error) {
    public record Response(int statusCode, String requestId, Object body) {}

    public record Error(String code, String message) {}

    public static BatchOutput success(String customId, Object body) {
        return new BatchOutput(newId("batch_req_"), customId, new Response(200, newId(""), body), null);
    }

    public static BatchOutput failure(String customId, String code, String message) {
        return new BatchOutput(newId("batch_req_"), customId, null, new Error(code, message));
    }

    public static String newId(String prefix) {
        return prefix + UUID.randomUUID().toString().replace("-", "");
    }
}
