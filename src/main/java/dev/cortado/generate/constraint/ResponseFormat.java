package dev.cortado.generate.constraint;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.CortadoException;

/**
 * OpenAI {@code response_format} to a constraint, for the request mappings of {@code batch} and the server:
 * {@code {"type":"text"}} (or absent) is none, {@code {"type":"json_object"}} any JSON object,
 * {@code {"type":"json_schema","json_schema":{"name":…,"schema":{…},"strict":true}}} the schema (always enforced,
 * whatever {@code strict} says).
 */
public final class ResponseFormat {
    private ResponseFormat() {}

    /** The constraint {@code format} asks for, or null for plain text. */
    public static Constraint constraint(JsonNode format) {
        if (format == null || format.isNull()) return null;
        if (!format.isObject() || !format.path("type").isTextual())
            throw new CortadoException("response_format must be an object with a string 'type' (text, json_object or json_schema)");
        String type = format.get("type").textValue();
        return switch (type) {
            case "text" -> null;
            case "json_object" -> Constraint.jsonObject();
            case "json_schema" -> {
                JsonNode js = format.get("json_schema");
                if (js == null || !js.isObject())
                    throw new CortadoException("response_format json_schema needs a 'json_schema' object with 'name' and 'schema'");
                JsonNode schema = js.get("schema");
                if (schema == null || !(schema.isObject() || schema.isBoolean()))
                    throw new CortadoException("response_format json_schema.schema must be a JSON Schema object");
                if (js.has("strict") && !js.get("strict").isBoolean())
                    throw new CortadoException("response_format json_schema.strict must be true or false");
                try {
                    yield Constraint.jsonSchema(schema.toString());
                } catch (CortadoException e) {
                    String name = js.path("name").asText("");
                    throw new CortadoException("response_format json_schema" + (name.isEmpty() ? "" : " '" + name + "'")
                            + ": " + e.getMessage(), e);
                }
            }
            default -> throw new CortadoException("response_format type '" + type
                    + "' is not supported; use text, json_object or json_schema");
        };
    }
}
