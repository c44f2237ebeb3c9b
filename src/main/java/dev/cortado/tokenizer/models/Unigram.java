package dev.cortado.tokenizer.models;

import dev.cortado.tokenizer.Json;

final class Unigram {
    static Model fromJson(Json j) {
        throw j.error("Unigram not implemented yet");
    }
}
