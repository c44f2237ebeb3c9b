package dev.cortado.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.testing.Shared;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** shared/models/tokenizers/NAME/goldens.json (transformers.js 4.3.1) over the shared corpus. */
class TransformersJsGoldensTest {
    /** Cases where transformers.js disagrees with the Rust library (which Cortado follows); see the goldens README. */
    static final java.util.Map<String, java.util.Set<Integer>> KNOWN_JS_DIFFERENCES = java.util.Map.of("bert-base-uncased", java.util.Set.of(104));

    static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asInt();
        return r;
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert-base-uncased", "gpt2", "t5-small", "flan-t5-small", "tinyllama-1.1b-chat-v1.0",
            "phi-3-mini-4k-instruct", "qwen3", "roberta-base", "whisper-tiny"})
    void idsAndDecode(String name) throws Exception {
        Path dir = Shared.require("models/tokenizers/" + name);
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        JsonNode g = new ObjectMapper().readTree(dir.resolve("goldens.json").toFile());
        List<String> failures = new ArrayList<>();
        int n = 0;
        for (JsonNode c : g.get("cases")) {
            int i = c.get("i").asInt();
            if (KNOWN_JS_DIFFERENCES.getOrDefault(name, java.util.Set.of()).contains(i)) continue;
            n++;
            String text = c.get("text").asText();
            int[] ids = tok.encode(text, true).ids();
            int[] idsNo = tok.encode(text, false).ids();
            if (!Arrays.equals(ints(c.get("ids")), ids)) failures.add(i + " ids " + Arrays.toString(ids));
            else if (!Arrays.equals(ints(c.get("ids_no_special")), idsNo)) failures.add(i + " ids_no_special");
            else {
                String want = c.get("decoded_no_cleanup").asText();
                String got = tok.decode(idsNo, false);
                if (!want.equals(got)) failures.add(i + " decode " + esc(got) + " want " + esc(want));
            }
        }
        assertEquals(List.of(), failures.subList(0, Math.min(10, failures.size())),
                name + ": " + failures.size() + "/" + n + " cases differ");
    }

    static String esc(String s) {
        return new ObjectMapper().valueToTree(s).toString();
    }
}
