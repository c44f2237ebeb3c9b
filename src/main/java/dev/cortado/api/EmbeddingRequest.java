package dev.cortado.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code /v1/embeddings} request body: {@code input} is a string or a list of strings; {@code encoding_format}
 * {@code float} (a JSON array) or {@code base64} (the float32 values, little-endian, base64-encoded).
 */
public record EmbeddingRequest(String model, List<String> input, boolean base64) {
    public static final String URL = "/v1/embeddings";

    public EmbeddingRequest {
        input = List.copyOf(input);
    }

    public static EmbeddingRequest parse(JsonNode json) {
        return parse(json, true);
    }

    /** When not {@code strict}, unknown fields are ignored (as OpenAI's server does). */
    public static EmbeddingRequest parse(JsonNode json, boolean strict) {
        Body b = new Body(json, strict);
        String model = b.string("model");
        JsonNode in = b.get("input");
        if (in == null) throw ApiException.param("'input' is missing; give a string or a list of strings to embed");
        List<String> texts = new ArrayList<>();
        if (in.isTextual()) texts.add(in.textValue());
        else if (in.isArray() && !in.isEmpty()) {
            for (JsonNode e : in) {
                if (!e.isTextual()) throw Body.type("input", "a string or a list of strings", in);
                texts.add(e.textValue());
            }
        } else throw Body.type("input", "a string or a non-empty list of strings", in);
        for (String t : texts) if (t.isEmpty()) throw ApiException.param("'input' must not contain an empty string");
        String format = b.string("encoding_format");
        if (format != null && !format.equals("float") && !format.equals("base64"))
            throw ApiException.param("encoding_format '" + format + "' is not supported; use \"float\" or \"base64\"");
        if (b.has("dimensions")) throw ApiException.param("dimensions is not supported (the model's size is fixed); remove it");
        b.string("user");
        b.rejectUnknown(URL);
        return new EmbeddingRequest(model, texts, "base64".equals(format));
    }
}
