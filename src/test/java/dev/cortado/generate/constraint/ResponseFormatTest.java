package dev.cortado.generate.constraint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.CortadoException;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** OpenAI response_format to constraints, and conflicts between a constraint and other generation settings. */
class ResponseFormatTest {
    static final ObjectMapper OM = new ObjectMapper();

    @Test
    void mapsTheThreeTypes() throws Exception {
        assertNull(ResponseFormat.constraint(null));
        assertNull(ResponseFormat.constraint(OM.readTree("{\"type\":\"text\"}")));
        assertEquals(Constraint.Kind.JSON_OBJECT, ResponseFormat.constraint(OM.readTree("{\"type\":\"json_object\"}")).kind());
        Constraint c = ResponseFormat.constraint(OM.readTree("{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"p\",\"strict\":true,"
                + "\"schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"boolean\"}},\"required\":[\"a\"],\"additionalProperties\":false}}}"));
        assertTrue(c.matches("{\"a\":true}"));
    }

    @Test
    void badFormatsNameTheField() throws Exception {
        String[][] cases = {{"{\"type\":\"xml\"}", "type 'xml' is not supported"},
                {"{\"type\":\"json_schema\"}", "needs a 'json_schema' object"},
                {"{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\"}}", "json_schema.schema must be"},
                {"{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"string\",\"format\":\"uri\"}}}",
                        "response_format json_schema 'x': json schema at #: keyword 'format' is not supported"},
                {"\"json\"", "must be an object"}};
        for (String[] c : cases) {
            CortadoException e = assertThrows(CortadoException.class, () -> ResponseFormat.constraint(OM.readTree(c[0])));
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
    }

    @Test
    void constraintNeedsEosAndSettingsThatLeaveItATokenAreErrors() {
        Path dir = Shared.require("models/stories260K");
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        try (LanguageModel m = Families.openDecoder(dir, new CpuBackend(), Families.Engine.CORTADO)) {
            Constraint yes = Constraint.choice(java.util.List.of("yes"));
            CortadoException noEos = assertThrows(CortadoException.class, () -> new Generator(m, tok,
                    GenerationConfig.greedy().maxNewTokens(10).constraint(yes)));
            assertTrue(noEos.getMessage().contains("eos_token_id"), noEos.getMessage());
            CortadoException banned = assertThrows(CortadoException.class, () -> new Generator(m, tok,
                    GenerationConfig.greedy().maxNewTokens(10).eosTokenId(2).minNewTokens(8).constraint(yes)).generate("Hi"));
            assertTrue(banned.getMessage().contains("banned by another setting"), banned.getMessage());
            CortadoException noTok = assertThrows(CortadoException.class, () -> new Generator(m, null,
                    GenerationConfig.greedy().maxNewTokens(10).eosTokenId(2).constraint(yes)));
            assertTrue(noTok.getMessage().contains("tokenizer"), noTok.getMessage());
        }
    }
}
