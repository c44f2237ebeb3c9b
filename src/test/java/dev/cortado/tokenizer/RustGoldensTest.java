package dev.cortado.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.testing.Shared;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * src/test/resources/goldens/tokenizers/NAME.json.gz, made by models/goldens/make_tokenizer_goldens.py with HF
 * tokenizers (Rust): every string must give identical ids (with and without special tokens) and decodes.
 */
class RustGoldensTest {
    static JsonNode golden(String name) throws Exception {
        try (InputStream in = RustGoldensTest.class.getResourceAsStream("/goldens/tokenizers/" + name + ".json.gz")) {
            return new ObjectMapper().readTree(new GZIPInputStream(in));
        }
    }

    static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asInt();
        return r;
    }

    static Tokenizer load(String name) {
        if (name.equals("all-minilm-l6-v2")) return Tokenizer.fromClasspath("/all-minilm-l6-v2-tokenizer.json");
        Path p = name.equals("stories260K") ? Shared.require("models/stories260K/tokenizer.json")
                : Shared.require("models/tokenizers/" + name + "/tokenizer.json");
        return Tokenizer.fromFile(p);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert-base-uncased", "gpt2", "t5-small", "flan-t5-small", "tinyllama-1.1b-chat-v1.0",
            "phi-3-mini-4k-instruct", "qwen3", "roberta-base", "whisper-tiny", "stories260K", "all-minilm-l6-v2"})
    void identicalToRust(String name) throws Exception {
        Tokenizer tok = load(name).withTruncation((Truncation) null).withPadding(null);
        JsonNode g = golden(name);
        List<String> failures = new ArrayList<>();
        int n = 0;
        for (JsonNode c : g.get("cases")) {
            String text = c.get("text").asText();
            String label = n++ + " " + TransformersJsGoldensTest.esc(text.length() > 60 ? text.substring(0, 60) : text);
            int[] ids = tok.encode(text, true).ids();
            int[] idsNo = tok.encode(text, false).ids();
            if (!Arrays.equals(ints(c.get("ids")), ids)) {
                failures.add(label + " ids " + Arrays.toString(ids) + " want " + c.get("ids"));
                continue;
            }
            if (!Arrays.equals(ints(c.get("ids_no_special")), idsNo)) {
                failures.add(label + " ids_no_special");
                continue;
            }
            String d = tok.decode(idsNo, false), ds = tok.decode(ids, true);
            if (!d.equals(c.get("decoded").asText()))
                failures.add(label + " decoded " + TransformersJsGoldensTest.esc(d) + " want "
                        + c.get("decoded"));
            else if (!ds.equals(c.get("decoded_skip").asText()))
                failures.add(label + " decoded_skip " + TransformersJsGoldensTest.esc(ds) + " want "
                        + c.get("decoded_skip"));
        }
        assertEquals(g.get("vocab_size").asInt(), tok.vocabSize(), "vocab size");
        assertEquals(List.of(), failures.subList(0, Math.min(8, failures.size())),
                name + ": " + failures.size() + "/" + n + " cases differ from HF tokenizers");
    }
}
