package dev.cortado.tokenizer.models;

import dev.cortado.tokenizer.Json;

/** Builds the model from tokenizer.json, inferring the type of old files that have no {@code type}. */
public final class Models {
    private Models() {}

    public static Model fromJson(Json j) {
        String type = j.type();
        if (type == null) {
            if (j.has("merges")) type = "BPE";
            else if (j.has("continuing_subword_prefix") && j.has("max_input_chars_per_word")) type = "WordPiece";
            else if (j.has("vocab") && j.get("vocab").node().isArray()) type = "Unigram";
            else if (j.has("vocab")) type = "WordLevel";
            else throw j.error("cannot tell the model type: no 'type', 'vocab' or 'merges'");
        }
        return switch (type) {
            case "WordPiece" -> WordPiece.fromJson(j);
            case "BPE" -> Bpe.fromJson(j);
            case "Unigram" -> Unigram.fromJson(j);
            case "WordLevel" -> WordLevel.fromJson(j);
            default -> throw j.unknownType("model");
        };
    }
}
