package dev.cortado.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.testing.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandsAndStoriesTest {
    @Test
    void stories260KTokenizerGoldens() throws Exception {
        Path dir = Shared.require("models/stories260K");
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        JsonNode cases = new ObjectMapper().readTree(dir.resolve("goldens.json").toFile()).get("tokenizer");
        int n = 0;
        for (JsonNode c : cases) {
            String text = c.get("text").asText();
            int[] got = tok.encode(text, true).ids();
            assertArrayEquals(RustGoldensTest.ints(c.get("ids")), got, text);
            assertEquals(text, tok.decode(got, true));
            n++;
        }
        assertEquals(3, n);
    }

    @Test
    void commands(@TempDir Path tmp) throws Exception {
        Path gpt2 = Shared.require("models/tokenizers/gpt2/tokenizer.json");
        assertEquals("{\"ids\":[15496,995],\"tokens\":[\"Hello\",\"Ġworld\"]}",
                TokenizerCommands.tokenizeJson(gpt2, "Hello world", true));
        assertEquals("Hello world", TokenizerCommands.detokenize(gpt2, new int[] {15496, 995}));
        Path msgs = tmp.resolve("m.json");
        Files.writeString(msgs, "[{\"role\":\"user\",\"content\":\"Hi\"}]");
        Path cfg = Shared.require("models/tokenizers/qwen3/tokenizer_config.json");
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", TokenizerCommands.chatTemplate(cfg, msgs));
        Files.writeString(msgs, "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"enable_thinking\":false}");
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
                TokenizerCommands.chatTemplate(cfg, msgs));
    }
}
