package dev.cortado.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import dev.cortado.testing.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BadInputTest {
    static final String WP = "{\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"vocab\":{\"[UNK]\":0,\"a\":1}}";

    static CortadoException fails(String json) {
        return assertThrows(CortadoException.class, () -> Tokenizer.fromJson(json));
    }

    @Test
    void malformedJson() {
        String m = fails("{\"model\": {\"type\": ").getMessage();
        assertTrue(m.contains("not valid JSON") && m.contains("line 1"), m);
        assertTrue(fails("[1,2]").getMessage().contains("top level is not a JSON object"));
        assertTrue(fails("{}").getMessage().contains("$: missing field 'model'"));
    }

    @Test
    void fileErrorsNameTheFile(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("tokenizer.json");
        Files.writeString(p, "{\"model\":{\"type\":\"Foo\"}}");
        String m = assertThrows(CortadoException.class, () -> Tokenizer.fromFile(p)).getMessage();
        assertEquals(p + ": tokenizer.json $.model.type: unknown model type 'Foo'", m);
        String missing = assertThrows(CortadoException.class, () -> Tokenizer.fromFile(dir.resolve("nope.json")))
                .getMessage();
        assertTrue(missing.startsWith("cannot read tokenizer "), missing);
    }

    @Test
    void unknownComponentTypesNameTypeAndPath() {
        assertEquals("tokenizer.json $.normalizer.normalizers[1].type: unknown normalizer type 'Shout'",
                fails(WP + ",\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},{\"type\":\"Shout\"}]}}")
                        .getMessage());
        assertEquals("tokenizer.json $.pre_tokenizer.type: unknown pre-tokenizer type 'X'",
                fails(WP + ",\"pre_tokenizer\":{\"type\":\"X\"}}").getMessage());
        assertEquals("tokenizer.json $.decoder.type: unknown decoder type 'Y'",
                fails(WP + ",\"decoder\":{\"type\":\"Y\"}}").getMessage());
        assertEquals("tokenizer.json $.post_processor.type: unknown post-processor type 'Z'",
                fails(WP + ",\"post_processor\":{\"type\":\"Z\"}}").getMessage());
        assertEquals("tokenizer.json $.model.vocab.a: expected an integer, got \"x\"",
                fails("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[UNK]\":0,\"a\":\"x\"}}}").getMessage());
        assertEquals("tokenizer.json $.model.merges[0]: merge token 'q' is not in the vocab",
                fails("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"q a\"]}}").getMessage());
        assertTrue(fails("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}},\"pre_tokenizer\":{\"type\":\"Split\","
                + "\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\"}}").getMessage()
                .startsWith("tokenizer.json $.pre_tokenizer.pattern.Regex: invalid regex"));
    }

    @Test
    void unpairedSurrogatesBecomeReplacementCharacter() {
        Tokenizer t = Tokenizer.fromFile(Shared.require("models/tokenizers/gpt2/tokenizer.json"));
        assertArrayEquals(t.encode("a\uFFFDb\uFFFD", false).ids(), t.encode("a\uD800b\uDC00", false).ids());
        assertArrayEquals(t.encode("\uD83D\uDE00", false).ids(), t.encode("\uD83D\uDE00", false).ids());
        assertEquals("x\uFFFD", t.decode(t.encode("x\uDBFF", false).ids(), false));
    }

    /** 10 MB of spaces and of letters: hand-written regex scanners, no backtracking; one giant word for BPE. */
    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "qwen3", "t5-small", "bert-base-uncased"})
    void tenMegabytesInLinearTime(String name) {
        Tokenizer t = Tokenizer.fromFile(Shared.require("models/tokenizers/" + name + "/tokenizer.json"));
        int n = 10 << 20;
        for (String s : new String[] {" ".repeat(n), "a".repeat(n)}) {
            int len = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> t.encode(s, true).length());
            assertTrue(len > 0);
        }
    }

    /** The full matrix (also mixed text and newline/tab runs, byte-fallback BPE); tagged slow. */
    @org.junit.jupiter.api.Tag("slow")
    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "qwen3", "t5-small", "bert-base-uncased", "tinyllama-1.1b-chat-v1.0"})
    void tenMegabytesMixed(String name) {
        Tokenizer t = Tokenizer.fromFile(Shared.require("models/tokenizers/" + name + "/tokenizer.json"));
        int n = 10 << 20;
        for (String s : new String[] {"ab 12 ".repeat(n / 6), "\n\t ".repeat(n / 3), "é".repeat(n)}) {
            int len = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> t.encode(s, true).length());
            assertTrue(len > 0);
        }
    }
}
