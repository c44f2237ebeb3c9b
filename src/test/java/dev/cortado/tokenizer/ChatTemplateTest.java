package dev.cortado.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.CortadoException;
import dev.cortado.testing.Shared;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Chat templates vs transformers.js (shared goldens) and transformers 5.18 (Python, resources). */
class ChatTemplateTest {
    static final ObjectMapper M = new ObjectMapper();

    static List<Map<String, Object>> messages(JsonNode n) {
        return M.convertValue(n, new TypeReference<>() {});
    }

    @ParameterizedTest
    @ValueSource(strings = {"tinyllama-1.1b-chat-v1.0", "phi-3-mini-4k-instruct", "qwen3"})
    void transformersJs(String name) throws Exception {
        Path dir = Shared.require("models/tokenizers/" + name);
        TokenizerConfig cfg = TokenizerConfig.load(dir.resolve("tokenizer_config.json"));
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        for (JsonNode c : M.readTree(dir.resolve("goldens.json").toFile()).get("chat")) {
            String text = cfg.applyChatTemplate(messages(c.get("messages")), c.get("add_generation_prompt").asBoolean(),
                    Map.of());
            assertEquals(c.get("text").asText(), text);
            assertArrayEquals(RustGoldensTest.ints(c.get("ids")), tok.encode(text, false).ids());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tinyllama-1.1b-chat-v1.0", "phi-3-mini-4k-instruct", "qwen3"})
    void pythonTransformers(String name) throws Exception {
        Path dir = Shared.require("models/tokenizers/" + name);
        TokenizerConfig cfg = TokenizerConfig.load(dir.resolve("tokenizer_config.json"));
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        JsonNode g = M.readTree(ChatTemplateTest.class.getResource("/goldens/tokenizers/chat_templates.json"));
        int n = 0;
        for (JsonNode c : g.get("templates").get(name)) {
            Map<String, Object> extra = M.convertValue(c.get("extra"), new TypeReference<>() {});
            String text = cfg.applyChatTemplate(messages(c.get("messages")), c.get("add_generation_prompt").asBoolean(),
                    extra);
            assertEquals(c.get("text").asText(), text, "case " + n);
            assertArrayEquals(RustGoldensTest.ints(c.get("ids")), tok.encode(text, false).ids());
            n++;
        }
        assertTrue(n >= 8);
    }

    @Test
    void configFields() {
        TokenizerConfig cfg = TokenizerConfig.load(Shared.require(
                "models/tokenizers/tinyllama-1.1b-chat-v1.0/tokenizer_config.json"));
        assertEquals("<s>", cfg.bosToken());
        assertEquals("</s>", cfg.eosToken());
        assertEquals("</s>", cfg.padToken());
        assertEquals(2048, cfg.modelMaxLength());
        TokenizerConfig phi = TokenizerConfig.load(Shared.require(
                "models/tokenizers/phi-3-mini-4k-instruct/tokenizer_config.json"));
        assertEquals(false, phi.addBosToken());
    }

    @Test
    void raiseExceptionAndNoIncludes() {
        TokenizerConfig cfg = TokenizerConfig.fromJson("{\"chat_template\": \"{% if messages|length == 0 %}"
                + "{{ raise_exception('need messages') }}{% endif %}{% for m in messages %}{{ m.content.strip()|upper }}"
                + "{% endfor %}\"}");
        assertEquals("HI", cfg.applyChatTemplate(List.of(Map.of("role", "user", "content", " hi ")), false, Map.of()));
        String m = assertThrows(CortadoException.class, () -> cfg.applyChatTemplate(List.of(), false, Map.of()))
                .getMessage();
        assertTrue(m.contains("need messages"), m);
        TokenizerConfig inc = TokenizerConfig.fromJson("{\"chat_template\": \"{% include '/etc/passwd' %}x\"}");
        assertThrows(CortadoException.class, () -> inc.applyChatTemplate(List.of(), false, Map.of()));
    }
}
