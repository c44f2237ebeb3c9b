package dev.cortado.langchain4j;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.SharedPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test models: stories260K from ../shared/models (skipping with a message when absent) with a chat template from
 * ../shared/models/tokenizers copied into its tokenizer_config.json, as the core's serve and batch tests do
 * (ServeFixture, BatchToolsTest). Nothing here is committed: the folders are made under the test's temp dir.
 */
final class Fixtures {
    private Fixtures() {}

    static final ObjectMapper M = new ObjectMapper();

    static Path shared(String relative) {
        Path root = SharedPaths.root();
        assumeTrue(root != null, "shared folder absent (set CORTADO_SHARED or place ../shared beside the project): skipping");
        Path p = root.resolve(relative);
        assumeTrue(Files.exists(p), "shared file absent: " + p + ": skipping");
        return p;
    }

    static Path stories() {
        return shared("models/stories260K");
    }

    static String template(String tokenizer) throws IOException {
        return M.readTree(shared("models/tokenizers/" + tokenizer + "/tokenizer_config.json").toFile()).get("chat_template").asText();
    }

    /** stories260K with TinyLlama's chat template, in {@code tmp/stories-chat}. */
    static Path chatModel(Path tmp) throws IOException {
        return modelWith(tmp, "stories-chat", template("tinyllama-1.1b-chat-v1.0"), 512);
    }

    /** stories260K with Qwen3's chat template (tools, hermes calls) and 2048 positions (tool prompts are long). */
    static Path toolModel(Path tmp) throws IOException {
        return modelWith(tmp, "stories-qwen", template("qwen3"), 2048);
    }

    static Path modelWith(Path tmp, String name, String template, int positions) throws IOException {
        Path src = stories(), dir = Files.createDirectories(tmp.resolve(name));
        for (String f : new String[] {"generation_config.json", "model.safetensors", "tokenizer.json"})
            Files.copy(src.resolve(f), dir.resolve(f));
        ObjectNode config = (ObjectNode) M.readTree(src.resolve("config.json").toFile());
        Files.writeString(dir.resolve("config.json"), config.put("max_position_embeddings", positions).toString());
        ObjectNode tc = (ObjectNode) M.readTree(src.resolve("tokenizer_config.json").toFile());
        tc.put("chat_template", template);
        Files.writeString(dir.resolve("tokenizer_config.json"), tc.toString());
        return dir;
    }
}
