package dev.cortado.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.cortado.CortadoException;
import dev.cortado.generate.FinishReason;

/** The one JSON mapper of the API types: record components in camelCase are written snake_case, nulls kept. */
public final class ApiJson {
    private ApiJson() {}

    public static final ObjectMapper MAPPER = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    /** One line of JSON (no newline inside: JSON escapes them). */
    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new CortadoException("cannot write JSON for " + value.getClass().getSimpleName() + ": " + e.getOriginalMessage(), e);
        }
    }

    /** OpenAI's finish_reason: an EOS token or a stop string is "stop", a token limit is "length". */
    public static String finishReason(FinishReason r) {
        return r == FinishReason.LENGTH ? "length" : "stop";
    }
}
