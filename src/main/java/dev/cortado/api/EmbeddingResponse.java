package dev.cortado.api;

import java.util.ArrayList;
import java.util.List;

/** An embedding {@code list} object: one {@code embedding} per input, in input order. */
public record EmbeddingResponse(String object, List<Data> data, String model, Usage usage) {
    public record Data(String object, int index, float[] embedding) {}

    public static EmbeddingResponse of(String model, List<float[]> vectors, int promptTokens) {
        List<Data> data = new ArrayList<>();
        for (int i = 0; i < vectors.size(); i++) data.add(new Data("embedding", i, vectors.get(i)));
        return new EmbeddingResponse("list", data, model, new Usage(promptTokens, 0, promptTokens));
    }
}
