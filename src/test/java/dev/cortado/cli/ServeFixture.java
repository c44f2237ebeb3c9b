package dev.cortado.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import dev.cortado.device.Device;
import dev.cortado.api.ServedModel;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.EngineOptions;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import dev.cortado.server.OpenAiServer;
import dev.cortado.server.ServerOptions;
import dev.cortado.tensor.DType;
import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Test servers for {@code cortado serve}: models opened as {@code serve} opens them, a server on a free loopback
 * port, the official OpenAI Java client pointed at it, and the independent reference: {@link Generator} alone on
 * the same folder.
 */
final class ServeFixture {
    private ServeFixture() {}

    static final ObjectMapper M = new ObjectMapper();

    static Path stories() {
        return Shared.require("models/stories260K");
    }

    /**
     * stories260K with TinyLlama's chat template (from ../shared/models/tokenizers) in a copy of its
     * tokenizer_config.json, generated under {@code tmp}: a chat-capable model folder small enough for tests.
     */
    static Path chatModel(Path tmp) throws IOException {
        return chatModel(tmp, M.readTree(Shared.require("models/tokenizers/tinyllama-1.1b-chat-v1.0/tokenizer_config.json")
                .toFile()).get("chat_template").asText());
    }

    /** stories260K in {@code tmp/stories-chat} with {@code template} as its chat template. */
    static Path chatModel(Path tmp, String template) throws IOException {
        Path src = stories(), dir = Files.createDirectories(tmp.resolve("stories-chat"));
        for (String f : new String[] {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json"})
            Files.copy(src.resolve(f), dir.resolve(f));
        ObjectNode tc = (ObjectNode) M.readTree(src.resolve("tokenizer_config.json").toFile());
        tc.put("chat_template", template);
        Files.writeString(dir.resolve("tokenizer_config.json"), tc.toString());
        return dir;
    }

    static ServedModel open(Path dir, String name, EngineOptions options) {
        return BatchCommand.open(dir, name, Device.cpu(), DType.F32, options);
    }

    static OpenAiServer start(ServerOptions options, Path... models) throws IOException {
        List<ServedModel> served = new ArrayList<>();
        try {
            for (Path m : models) served.add(open(m, null, EngineOptions.defaults()));
            return new OpenAiServer(served, options);
        } catch (RuntimeException | IOException e) {
            served.forEach(ServedModel::close);
            throw e;
        }
    }

    static ServerOptions loopback() {
        return ServerOptions.defaults().port(0).shutdownGrace(Duration.ofSeconds(2));
    }

    /** A client that validates every response against the OpenAI schema (required fields, types, constants). */
    static OpenAIClient client(OpenAiServer server, String key) {
        return client(server, key, true);
    }

    /**
     * {@code validate = false} for streamed legacy completions only: the client's {@code Completion} type requires a
     * finish_reason, which OpenAI's own stream chunks leave null until the last one.
     */
    static OpenAIClient client(OpenAiServer server, String key, boolean validate) {
        return OpenAIOkHttpClient.builder().baseUrl(server.url() + "/v1").apiKey(key == null ? "unused" : key)
                .maxRetries(0).timeout(Duration.ofSeconds(60)).responseValidation(validate).build();
    }

    /** Greedy (or any config) results of {@link Generator} alone on the folder: the reference. */
    static List<GenerationResult> direct(Path dir, GenerationConfig c, List<String> prompts) {
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        try (LanguageModel lm = Families.openDecoder(dir, new CpuBackend(), Families.Engine.CORTADO)) {
            return new Generator(lm, tok, c).generateBatch(prompts);
        }
    }

    static GenerationConfig base(Path dir) {
        return GenerationConfig.fromFile(dir.resolve("generation_config.json"));
    }
}
