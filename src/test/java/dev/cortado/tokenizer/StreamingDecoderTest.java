package dev.cortado.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StreamingDecoderTest {
    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "qwen3", "tinyllama-1.1b-chat-v1.0", "t5-small", "bert-base-uncased",
            "whisper-tiny"})
    void concatenatedDeltasEqualFullDecode(String name) throws Exception {
        Tokenizer tok = Tokenizer.fromFile(Shared.require("models/tokenizers/" + name + "/tokenizer.json"));
        JsonNode corpus = new ObjectMapper().readTree(Shared.require("models/tokenizers/corpus.json").toFile());
        int checked = 0;
        for (JsonNode s : corpus.get("strings")) {
            for (boolean skip : new boolean[] {true, false}) {
                int[] ids = tok.encode(s.asText(), true).ids();
                String want = tok.decode(ids, skip);
                if (want.contains("\uFFFD")) continue; // invalid byte sequences are only settled by flush()
                StreamingDecoder d = tok.streamingDecoder(skip);
                StringBuilder got = new StringBuilder();
                for (int id : ids) {
                    String delta = d.push(id);
                    assertFalse(!delta.isEmpty() && Character.isHighSurrogate(delta.charAt(delta.length() - 1)));
                    assertFalse(delta.contains("\uFFFD"), name + ": " + s);
                    got.append(delta);
                }
                got.append(d.flush());
                assertEquals(want, got.toString(), name + ": " + s);
                checked++;
            }
        }
        assertEquals(true, checked > 600);
    }

    @Test
    void holdsBackPartialUtf8() {
        Tokenizer tok = Tokenizer.fromFile(Shared.require("models/tokenizers/gpt2/tokenizer.json"));
        int[] ids = tok.encode("a 🫠", false).ids(); // the emoji is split into byte tokens
        StreamingDecoder d = tok.streamingDecoder(false);
        StringBuilder deltas = new StringBuilder();
        int empties = 0;
        for (int id : ids) {
            String delta = d.push(id);
            if (delta.isEmpty()) empties++;
            deltas.append(delta).append('|');
        }
        assertEquals("a| 🫠|", deltas.toString().replaceAll("\\|+", "|"));
        assertEquals(true, empties > 0);
    }
}
