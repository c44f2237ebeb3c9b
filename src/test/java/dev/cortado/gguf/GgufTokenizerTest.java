package dev.cortado.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.Tokenizer;
import dev.cortado.tokenizer.TokenizerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tokenizers built from GGUF metadata give the token ids of Hugging Face tokenizers on the source tokenizer.json
 * (goldens: src/test/resources/gguf/tokenizer-goldens.json, made by models/fixtures/gguf/build_gguf.py), on the
 * shared tokenizer corpus and Debian description lines (read from ../shared; skipped when absent).
 */
class GgufTokenizerTest {
    static JsonNode goldens;
    static List<String> texts;

    @BeforeAll
    static void load() throws Exception {
        goldens = new ObjectMapper().readTree(Path.of("src/test/resources/gguf/tokenizer-goldens.json").toFile());
        texts = new ArrayList<>();
        new ObjectMapper().readTree(Shared.require("models/tokenizers/corpus.json").toFile()).get("strings").forEach(s -> texts.add(s.asText()));
        List<String> lines = Files.readAllLines(Shared.require("data/debian-descriptions/en-de/dev.tsv"));
        List<String> en = new ArrayList<>(), de = new ArrayList<>();
        for (String l : lines.subList(1, 101)) {
            String[] f = l.split("\t", -1);
            if (f.length >= 4) {
                en.add(f[2]);
                de.add(f[3]);
            }
        }
        texts.addAll(en.subList(0, 60));
        texts.addAll(de.subList(0, 40));
        assertEquals(goldens.get("gpt2").size(), texts.size());
    }

    static void assertIds(Tokenizer tok, String key) {
        JsonNode want = goldens.get(key);
        for (int i = 0; i < texts.size(); i++) {
            int[] expected = new ObjectMapper().convertValue(want.get(i), int[].class);
            assertArrayEquals(expected, tok.encode(texts.get(i), true).ids(), key + " text " + i + ": " + texts.get(i));
        }
    }

    @Test
    void llamaSentencePieceFromScoresMatchesHf() {
        try (GgufFile f = GgufFile.open(Path.of("models/fixtures/gguf/stories260K-q8_0.gguf"))) {
            Tokenizer tok = GgufTokenizer.tokenizer(f);
            assertIds(tok, "stories260K");
            assertEquals("Once upon a time", tok.decode(tok.encode("Once upon a time", true).ids(), true));
            TokenizerConfig c = GgufTokenizer.config(f);
            assertEquals("<s>", c.bosToken());
            assertEquals("</s>", c.eosToken());
        }
    }

    @Test
    void gpt2ByteLevelMatchesHf() {
        try (GgufFile f = GgufFile.open(Path.of("src/test/resources/gguf/gpt2-tokenizer.gguf"))) {
            Tokenizer tok = GgufTokenizer.tokenizer(f);
            assertIds(tok, "gpt2");
            assertTrue(tok.isSpecial(50256));
            String s = "Hello, wörld!  It's 2024 <|endoftext|>";
            assertEquals(s, tok.decode(tok.encode(s, true).ids(), false));
        }
    }

    /** The chat template from tokenizer.chat_template renders as jinja2 renders it (goldens "chat"). */
    @Test
    void chatTemplateFromMetadata() {
        JsonNode chat = goldens.get("chat");
        List<Map<String, Object>> msgs = new ObjectMapper().convertValue(chat.get("messages"),
                new com.fasterxml.jackson.core.type.TypeReference<List<Map<String, Object>>>() {});
        for (String file : List.of("src/test/resources/gguf/gpt2-tokenizer.gguf", "models/fixtures/gguf/stories260K-q8_0.gguf")) {
            try (GgufFile f = GgufFile.open(Path.of(file))) {
                String want = chat.get(Path.of(file).getFileName().toString()).asText();
                assertEquals(want, GgufTokenizer.config(f).applyChatTemplate(msgs, true, null), file);
            }
        }
    }

    @Test
    void qwen2PreTokenizerMatchesHf() {
        try (GgufFile f = GgufFile.open(Path.of("src/test/resources/gguf/gpt2-tokenizer.gguf"))) {
            Map<String, Object> meta = new LinkedHashMap<>(f.metadata());
            meta.put("tokenizer.ggml.pre", "qwen2");
            assertIds(Tokenizer.fromJson(GgufTokenizer.tokenizerJson(new GgufMetadata("qwen2-pre", meta))), "gpt2_vocab_qwen2_pre");
        }
    }
}
