package dev.cortado.api;

import java.util.ArrayList;
import java.util.List;

/** An embedding {@code list} object: one {@code embedding} per input, in input order. */
public record EmbeddingResponse(String object, List<Data> data, String model, Usage usage) {
    /** {@code embedding} is a {@code float[]} (encoding_format float) or a base64 {@code String} of float32 LE values. */
    public record Data(String object, int index, Object embedding) {}

    public static EmbeddingResponse of(String model, List<float[]> vectors, int promptTokens) {
        return of(model, vectors, promptTokens, false);
    }

    public static EmbeddingResponse of(String model, List<float[]> vectors, int promptTokens, boolean base64) {
        List<Data> data = new ArrayList<>();
        for (int i = 0; i < vectors.size(); i++)
            data.add(new Data("embedding", i, base64 ? base64(vectors.get(i)) : vectors.get(i)));
        return new EmbeddingResponse("list", data, model, new Usage(promptTokens, 0, promptTokens));
    }

    /** OpenAI's base64 embedding: the float32 values in little-endian order, base64-encoded. */
    static String base64(float[] v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(v.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return java.util.Base64.getEncoder().encodeToString(b.array());
    }
}
