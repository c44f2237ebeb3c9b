package dev.cortado.tokenizer.models;

import dev.cortado.tokenizer.Json;

final class Bpe {
    static Model fromJson(Json j) {
        throw j.error("Bpe not implemented yet");
    }
}
