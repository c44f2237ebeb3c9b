package dev.cortado.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** #18: each broken tokenizer.json / tokenizer_config.json field is one line naming the path, value and what is allowed. */
class TokenizerValidationTest {
    static final String WP_MODEL = "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"vocab\":{\"[UNK]\":0,\"a\":1,\"b\":2}}";

    static String fails(String json) {
        String m = assertThrows(CortadoException.class, () -> Tokenizer.fromJson(json)).getMessage();
        assertTrue(!m.contains("\n") && !m.contains("internal error"), m);
        return m;
    }

    @ParameterizedTest
    @CsvSource(delimiterString = " => ", quoteCharacter = '`', value = {
        // vocab ids
        "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[UNK]\":0,\"a\":2147483647}}} => tokenizer.json $.model.vocab.a: token id 2147483647 is outside the vocab: ids must be 0..1 (2 tokens; holes of up to 1024 are tolerated)",
        "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[UNK]\":0,\"a\":-3}}} => tokenizer.json $.model.vocab.a: token id -3 is outside the vocab",
        "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[UNK]\":0,\"a\":0}}} => tokenizer.json $.model.vocab.a: token id 0 is used twice ('[UNK]' and 'a'): each id must name one token",
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":5000}}} => tokenizer.json $.model.vocab.b: token id 5000 is outside the vocab",
        "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[UNK]\":0,\"a\":1.5}}} => tokenizer.json $.model.vocab.a: expected an integer, got 1.5",
        "{\"model\":{\"type\":\"WordPiece\",\"vocab\":[\"a\"]}} => tokenizer.json $.model.vocab: expected an object, got ARRAY",
        // added tokens
        "{" + WP_MODEL + ",\"added_tokens\":[{\"id\":2000000000,\"content\":\"<x>\"}]} => tokenizer.json $.added_tokens[0].id: 2000000000 is not allowed: added token ids continue the vocab (3 model tokens + 1 added tokens): expected 0..1027",
        "{" + WP_MODEL + ",\"added_tokens\":[{\"id\":-1,\"content\":\"<x>\"}]} => tokenizer.json $.added_tokens[0].id: -1 is not allowed",
        "{" + WP_MODEL + ",\"added_tokens\":[{\"id\":3,\"content\":\"<x>\"},{\"id\":3,\"content\":\"<y>\"}]} => tokenizer.json $.added_tokens[1].id: id 3 is given to two added tokens, '<x>' and '<y>'",
        "{" + WP_MODEL + ",\"added_tokens\":[{\"id\":3,\"content\":\"<x>\"},{\"id\":4,\"content\":\"<x>\"}]} => tokenizer.json $.added_tokens[1].content: the added token '<x>' has two ids, 3 and 4",
        "{" + WP_MODEL + ",\"added_tokens\":[{\"id\":\"3\",\"content\":\"<x>\"}]} => tokenizer.json $.added_tokens[0].id: expected an integer, got \"3\"",
        // truncation
        "{" + WP_MODEL + ",\"truncation\":{\"max_length\":-1}} => tokenizer.json $.truncation.max_length: -1 is not allowed: expected an integer >= 1",
        "{" + WP_MODEL + ",\"truncation\":{\"max_length\":0}} => tokenizer.json $.truncation.max_length: 0 is not allowed: expected an integer >= 1",
        "{" + WP_MODEL + ",\"truncation\":{\"max_length\":8,\"stride\":8}} => tokenizer.json $.truncation.stride: 8 is not allowed: the stride must be below max_length (8)",
        "{" + WP_MODEL + ",\"truncation\":{\"max_length\":8,\"direction\":\"Up\"}} => tokenizer.json $.truncation.direction: 'Up' is not allowed: expected one of Right, Left",
        "{" + WP_MODEL + ",\"truncation\":{\"max_length\":8,\"strategy\":\"Middle\"}} => tokenizer.json $.truncation.strategy: 'Middle' is not allowed: expected one of LongestFirst, OnlyFirst, OnlySecond",
        "{" + WP_MODEL + ",\"truncation\":{\"stride\":0}} => tokenizer.json $.truncation: missing field 'max_length' (an integer >= 1)",
        // padding
        "{" + WP_MODEL + ",\"padding\":{\"strategy\":{\"Fixed\":2147483647}}} => tokenizer.json $.padding.strategy.Fixed: 2147483647 is not allowed: expected an integer in 0..1048576",
        "{" + WP_MODEL + ",\"padding\":{\"strategy\":\"Longest\"}} => tokenizer.json $.padding.strategy: \"Longest\" is not allowed: expected \"BatchLongest\" or {\"Fixed\": n}",
        "{" + WP_MODEL + ",\"padding\":{\"pad_to_multiple_of\":0}} => tokenizer.json $.padding.pad_to_multiple_of: 0 is not allowed: expected an integer in 1..1048576",
        "{" + WP_MODEL + ",\"padding\":{\"pad_id\":-5}} => tokenizer.json $.padding.pad_id: -5 is not allowed: expected an integer >= 0",
        "{" + WP_MODEL + ",\"padding\":{\"pad_id\":999999}} => tokenizer.json $.padding.pad_id: 999999 is not allowed: expected an id below 1027 (3 model tokens + 0 added tokens)",
        "{" + WP_MODEL + ",\"padding\":{\"direction\":\"Middle\"}} => tokenizer.json $.padding.direction: 'Middle' is not allowed: expected one of Right, Left",
        // merges, models, components
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a b\"]}} => tokenizer.json $.model.merges[0]: merged token 'ab' is not in the vocab",
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[[\"a\"]]}} => tokenizer.json $.model.merges[0]: a merge must be a pair of tokens",
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"dropout\":2}} => tokenizer.json $.model.dropout: 2.0 is not allowed: expected null or a number in 0..1",
        "{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\",0.5]],\"unk_id\":7}} => tokenizer.json $.model.unk_id: unk_id 7 is outside the vocab: expected null or 0..0",
        "{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\",1e999]]}} => tokenizer.json $.model.vocab[0][1]: Infinity is not allowed: expected a finite number score",
        "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[UNK]\":0},\"max_input_chars_per_word\":-1}} => tokenizer.json $.model.max_input_chars_per_word: -1 is not allowed: expected an integer >= 1",
        "{\"model\":{\"type\":\"Tiktoken\",\"vocab\":{}}} => tokenizer.json $.model.type: unknown model type 'Tiktoken'",
        "{" + WP_MODEL + ",\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\"}} => tokenizer.json $.pre_tokenizer.replacement: '' is not allowed: expected exactly one character",
        "{" + WP_MODEL + ",\"pre_tokenizer\":{\"type\":\"Metaspace\",\"prepend_scheme\":\"sometimes\"}} => tokenizer.json $.pre_tokenizer.prepend_scheme: 'sometimes' is not allowed: expected one of always, first, never",
        "{" + WP_MODEL + ",\"decoder\":{\"type\":\"Strip\",\"content\":\"ab\",\"start\":1}} => tokenizer.json $.decoder.content: 'ab' is not allowed: expected exactly one character",
        "{" + WP_MODEL + ",\"decoder\":{\"type\":\"Strip\",\"start\":-1}} => tokenizer.json $.decoder.start: -1 is not allowed: expected an integer >= 0",
        "{" + WP_MODEL + ",\"post_processor\":{\"type\":\"BertProcessing\",\"cls\":[\"[CLS]\",70000],\"sep\":[\"[SEP]\",1]}} => tokenizer.json $.post_processor.cls[1]: 70000 is not allowed: expected a token id in 0..1026 (the vocab size)",
        "{" + WP_MODEL + ",\"normalizer\":{\"type\":\"Lowercase\",\"x\":1},\"pre_tokenizer\":7} => tokenizer.json $.pre_tokenizer: expected an object, got NUMBER",
        "{" + WP_MODEL + ",\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"[[:alpha:]]\"},\"content\":\"\"}} => tokenizer.json $.normalizer.pattern.Regex: invalid regex '[[:alpha:]]': a POSIX bracket class like [:alpha:] is not supported (no linear-time equivalent with the same meaning)",
        "{" + WP_MODEL + ",\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a{2,1}\"},\"behavior\":\"Isolated\"}} => tokenizer.json $.pre_tokenizer.pattern.Regex: invalid regex 'a{2,1}': invalid repeat count",
    })
    void brokenTokenizerJson(String json, String expected) {
        String m = fails(json);
        assertTrue(m.startsWith(expected), "expected: " + expected + "\n     got: " + m);
    }

    @Test
    void deepNestingIsOneLine() {
        String m = fails("{\"model\":" + "[".repeat(5000) + "]".repeat(5000) + "}");
        assertTrue(m.startsWith("tokenizer.json is not valid JSON"), m);
        StringBuilder seq = new StringBuilder(WP_MODEL);
        String nested = "{\"type\":\"Lowercase\"}";
        for (int i = 0; i < 300; i++) nested = "{\"type\":\"Sequence\",\"normalizers\":[" + nested + "]}";
        Tokenizer t = Tokenizer.fromJson("{" + seq + ",\"normalizer\":" + nested + "}");
        assertEquals(1, t.encode("A", false).ids()[0]);
    }

    @Test
    void messagesEchoingFileTextStayOnOneLine() {
        String m = fails("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a\\nq a\"]}}");
        assertTrue(m.contains("\\n"), m);
    }

    static String configFails(String json, String call) {
        TokenizerConfig c = TokenizerConfig.fromJson(json);
        String m = assertThrows(CortadoException.class, () -> {
            switch (call) {
                case "max" -> c.modelMaxLength();
                case "bos" -> c.addBosToken();
                case "template" -> c.chatTemplate();
                default -> c.bosToken();
            }
        }).getMessage();
        assertTrue(!m.contains("\n"), m);
        return m;
    }

    @ParameterizedTest
    @CsvSource(delimiterString = " => ", quoteCharacter = '`', value = {
        "{\"model_max_length\":-5} | max => tokenizer_config.json: $.model_max_length: -5 is not allowed: expected a whole number >= 1 (or 1e30 for no limit)",
        "{\"model_max_length\":0} | max => tokenizer_config.json: $.model_max_length: 0 is not allowed",
        "{\"model_max_length\":512.5} | max => tokenizer_config.json: $.model_max_length: 512.5 is not allowed",
        "{\"model_max_length\":\"512\"} | max => tokenizer_config.json: $.model_max_length: \"512\" is not allowed",
        "{\"add_bos_token\":\"yes\"} | bos => tokenizer_config.json: $.add_bos_token: \"yes\" is not allowed: expected true or false",
        "{\"chat_template\":42} | template => tokenizer_config.json: $.chat_template: a NUMBER is not allowed: expected a string or a list",
        "{\"chat_template\":[{\"name\":\"tool_use\",\"template\":\"x\"}]} | template => tokenizer_config.json: $.chat_template: no entry is named 'default'",
        "{\"chat_template\":[{\"name\":\"default\",\"template\":7}]} | template => tokenizer_config.json: $.chat_template[0]: not allowed",
        "{\"bos_token\":[1]} | token => tokenizer_config.json: $.bos_token: [1] is not allowed: expected a string or {\"content\": \"...\"}",
    })
    void brokenTokenizerConfig(String jsonAndCall, String expected) {
        String[] parts = jsonAndCall.split(" \\| ");
        String m = configFails(parts[0], parts[1]);
        assertTrue(m.startsWith(expected), "expected: " + expected + "\n     got: " + m);
    }

    @Test
    void modelMaxLengthNoLimitAndSane() {
        assertNull(TokenizerConfig.fromJson("{\"model_max_length\":1000000000000000019884624838656}").modelMaxLength());
        assertEquals(512, TokenizerConfig.fromJson("{\"model_max_length\":512}").modelMaxLength());
        assertEquals(512, TokenizerConfig.fromJson("{\"model_max_length\":512.0}").modelMaxLength());
        assertNull(TokenizerConfig.fromJson("{}").modelMaxLength());
    }

    /** Fuzz finding: a message that is not an object was a Jackson IllegalArgumentException (no CortadoException). */
    @Test
    void chatTemplateCommandRejectsMalformedMessages(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path cfg = dir.resolve("tokenizer_config.json"), msgs = dir.resolve("messages.json");
        java.nio.file.Files.writeString(cfg, "{\"chat_template\": \"{% for m in messages %}{{ m.content }}{% endfor %}\"}");
        for (String doc : new String[] {"[1]", "{\"messages\": [\"\"]}", "{\"messages\": [null]}",
                "{\"messages\": [], \"add_generation_prompt\": \"yes\"}", "{\"messages\": 3}", "[[[[", "7"}) {
            java.nio.file.Files.writeString(msgs, doc);
            String m = assertThrows(CortadoException.class, () -> TokenizerCommands.chatTemplate(cfg, msgs), doc)
                    .getMessage();
            assertTrue(m.startsWith(msgs.toString()) || m.startsWith("cannot read messages"), m);
            assertTrue(!m.contains("\n"), m);
        }
        java.nio.file.Files.writeString(msgs, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
        assertEquals("hi", TokenizerCommands.chatTemplate(cfg, msgs));
    }

    @Test
    void truncationApiRejectsNonsense() {
        Tokenizer t = Tokenizer.fromJson("{" + WP_MODEL + "}");
        String m = assertThrows(CortadoException.class, () -> t.withTruncation(-1)).getMessage();
        assertEquals("truncation max_length -1 is not allowed: expected an integer >= 1", m);
    }
}
