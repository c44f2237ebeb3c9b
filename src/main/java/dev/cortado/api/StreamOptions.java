package dev.cortado.api;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A request's {@code stream} and {@code stream_options.include_usage}: a streamed response is a sequence of chunks
 * (Server-Sent Events in {@code serve}); with {@code includeUsage} the last chunk before {@code [DONE]} carries the
 * usage and no choices. {@code batch} refuses {@code stream: true}.
 */
public record StreamOptions(boolean stream, boolean includeUsage) {
    public static final StreamOptions OFF = new StreamOptions(false, false);

    static StreamOptions parse(Body b) {
        boolean stream = Boolean.TRUE.equals(b.bool("stream"));
        JsonNode o = b.get("stream_options");
        if (o == null) return new StreamOptions(stream, false);
        if (!o.isObject()) throw Body.type("stream_options", "an object such as {\"include_usage\": true}", o);
        if (!stream) throw ApiException.param("stream_options needs stream: true; remove it or set stream");
        JsonNode u = o.get("include_usage");
        if (u != null && !u.isNull() && !u.isBoolean()) throw Body.type("stream_options.include_usage", "true or false", u);
        return new StreamOptions(true, u != null && u.asBoolean());
    }
}
