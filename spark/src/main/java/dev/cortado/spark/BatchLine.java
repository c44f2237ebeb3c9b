package dev.cortado.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.api.ApiException;
import dev.cortado.api.ApiJson;
import dev.cortado.api.BatchInput;
import dev.cortado.api.BatchOutput;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * One request line of a {@code batch --spark} job, read and checked as {@code cortado batch} reads it
 * ({@link dev.cortado.api.BatchJob}): {@code number} is its 1-based line (or Parquet row); a line that cannot run
 * carries its finished error line in {@code error} instead of {@code text}. Its {@link #key()} is its custom_id,
 * or {@code line-N} when it has none (or is a later duplicate).
 */
record BatchLine(long number, String customId, String text, String error) implements Serializable {
    String key() {
        return customId != null ? customId : "line-" + number;
    }

    /** A line that already failed: its error line, under {@code line-N}. */
    static BatchLine failed(long number, String code, String message) {
        return new BatchLine(number, null, null, ApiJson.write(BatchOutput.failure("line-" + number, code, message)));
    }

    /** The line of bytes {@code raw} at {@code number}, or null for a blank line (skipped, as batch skips it). */
    static BatchLine parse(byte[] raw, long number) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            return failed(number, "invalid_json", "line " + number + " is not valid UTF-8; save the file as UTF-8");
        }
        return parse(text, number);
    }

    /** A decoded line, or null when it is blank. */
    static BatchLine parse(String text, long number) {
        if (text.isBlank()) return null;
        try {
            BatchInput in = BatchInput.parse(text, Math.toIntExact(number));
            return new BatchLine(number, in.customId(), text, null);
        } catch (ApiException e) {
            return failed(number, e.code(), e.getMessage());
        }
    }

    /**
     * A Parquet row (columns custom_id, url, body; method POST) as the JSONL line it stands for: {@code body} is
     * the body's JSON text (a string column, or a struct written as JSON); a body that is not JSON stays a string,
     * so its error line says the body must be an object.
     */
    static BatchLine ofColumns(String customId, String url, String body, long number) {
        ObjectNode o = ApiJson.MAPPER.createObjectNode();
        if (customId != null) o.put("custom_id", customId);
        o.put("method", "POST");
        if (url != null) o.put("url", url);
        if (body != null) {
            JsonNode b;
            try {
                b = ApiJson.MAPPER.readTree(body);
            } catch (java.io.IOException e) {
                b = o.textNode(body);
            }
            o.set("body", b == null ? o.textNode(body) : b);
        }
        return parse(o.toString(), number);
    }

    /** This line as the later duplicate of the custom_id first used on line {@code first}. */
    BatchLine duplicateOf(long first) {
        return failed(number, "duplicate_custom_id", "duplicate custom_id '" + customId + "': already used on line " + first
                + "; give each request its own custom_id");
    }
}
