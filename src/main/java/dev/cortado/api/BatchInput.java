package dev.cortado.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;

/**
 * One line of an OpenAI Batch input file:
 * {@code {"custom_id":"r1","method":"POST","url":"/v1/completions","body":{…}}}. {@code line} is the 1-based line
 * number; {@link #key()} is the custom_id, or {@code line-N} when the line has none.
 */
public record BatchInput(int line, String customId, String method, String url, JsonNode body) {
    public static final Set<String> URLS = Set.of(CompletionRequest.URL, ChatRequest.URL, EmbeddingRequest.URL);

    public String key() {
        return customId != null ? customId : "line-" + line;
    }

    /**
     * Parses one line. A line that is not JSON or has no usable custom_id throws; a line with a custom_id but a bad
     * method, url or body is returned with {@link #check()} failing, so its error line carries its custom_id.
     */
    public static BatchInput parse(String text, int line) {
        JsonNode n;
        try {
            n = ApiJson.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ApiException("invalid_json", "line " + line + " is not valid JSON (" + e.getOriginalMessage()
                    + "); write one JSON object per line");
        }
        if (n == null || !n.isObject())
            throw new ApiException("invalid_json", "line " + line + " is not a JSON object; write one {\"custom_id\", "
                    + "\"method\", \"url\", \"body\"} object per line");
        JsonNode id = n.get("custom_id");
        if (id == null || id.isNull() || (id.isTextual() && id.textValue().isEmpty()))
            throw new ApiException("missing_custom_id", "line " + line + " has no custom_id; give every line a unique custom_id");
        if (!id.isTextual())
            throw new ApiException("invalid_custom_id", "line " + line + ": custom_id must be a string, got " + id);
        JsonNode body = n.get("body");
        return new BatchInput(line, id.textValue(), n.path("method").isTextual() ? n.get("method").textValue() : null,
                n.path("url").isTextual() ? n.get("url").textValue() : null, body == null || body.isNull() ? null : body);
    }

    /** Throws an {@link ApiException} naming what is wrong with method, url or body. */
    public BatchInput check() {
        if (method != null && !method.equals("POST"))
            throw new ApiException("invalid_method", "method '" + method + "' is not supported; use \"POST\"");
        if (url == null)
            throw new ApiException("invalid_url", "no url; use one of " + String.join(", ", URLS.stream().sorted().toList()));
        if (!URLS.contains(url))
            throw new ApiException("invalid_url", "url '" + url + "' is not supported; use one of "
                    + String.join(", ", URLS.stream().sorted().toList()));
        if (body == null) throw new ApiException("missing_body", "no body; give the request's JSON object as \"body\"");
        if (!body.isObject()) throw new ApiException("missing_body", "body must be a JSON object, got a "
                    + body.getNodeType().toString().toLowerCase(java.util.Locale.ROOT) + "; give the request's JSON object");
        return this;
    }
}
