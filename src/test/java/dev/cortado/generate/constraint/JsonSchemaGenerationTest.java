package dev.cortado.generate.constraint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.FinishReason;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * stories260K (a model that knows nothing of JSON) under constraints: for 40 schemas covering every supported keyword,
 * greedy and two sampling seeds, every output ends with EOS, parses as JSON (Jackson, trailing tokens rejected) and
 * validates against its schema with networknt json-schema-validator (an independent JSON-Schema implementation).
 * Beam search outputs too. Regex outputs match in full (java.util.regex); choice outputs are one of the choices.
 */
class JsonSchemaGenerationTest {
    static final List<String> SCHEMAS = List.of(
            "{\"type\":\"string\",\"maxLength\":10}",
            "{\"type\":\"string\",\"minLength\":3,\"maxLength\":6}",
            "{\"type\":\"integer\"}",
            "{\"type\":\"integer\",\"minimum\":10,\"maximum\":99}",
            "{\"type\":\"integer\",\"minimum\":-5,\"maximum\":5}",
            "{\"type\":\"integer\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":1000}",
            "{\"type\":\"integer\",\"exclusiveMinimum\":-100,\"maximum\":-50}",
            "{\"type\":\"number\"}",
            "{\"type\":\"boolean\"}",
            "{\"type\":\"null\"}",
            "{\"enum\":[\"red\",\"green\",\"blue\"]}",
            "{\"enum\":[1,\"two\",null,true,{\"a\":1},[1,2]]}",
            "{\"const\":\"fixed\"}",
            "{\"const\":{\"k\":[1,2,{\"z\":null}]}}",
            "{\"type\":\"string\",\"enum\":[\"a\",\"b\",3]}",
            "{\"type\":[\"string\",\"null\"],\"maxLength\":5}",
            "{\"type\":[\"integer\",\"boolean\"],\"minimum\":0,\"maximum\":3}",
            "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":12},\"age\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":120}},\"required\":[\"name\",\"age\"]}",
            "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"boolean\"},\"b\":{\"type\":\"null\"},\"c\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9}},\"additionalProperties\":false}",
            "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"boolean\"},\"b\":{\"enum\":[\"x\",\"y\"]},\"c\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9}},\"required\":[\"b\"],\"additionalProperties\":false}",
            "{\"type\":\"object\",\"properties\":{\"user\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":9999},\"email\":{\"type\":\"string\",\"pattern\":\"^[a-z]{1,8}@[a-z]{1,8}\\\\.com$\"}},\"required\":[\"id\",\"email\"],\"additionalProperties\":false}},\"required\":[\"user\"]}",
            "{\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":500},\"minItems\":1,\"maxItems\":5}",
            "{\"type\":\"array\",\"items\":{\"enum\":[\"red\",\"green\",1,null]},\"minItems\":2,\"maxItems\":4}",
            "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":99},\"done\":{\"type\":\"boolean\"}},\"required\":[\"id\",\"done\"],\"additionalProperties\":false},\"minItems\":1,\"maxItems\":3}",
            "{\"type\":\"array\",\"maxItems\":0}",
            "{\"anyOf\":[{\"type\":\"string\",\"maxLength\":4},{\"type\":\"integer\",\"minimum\":0,\"maximum\":9}]}",
            "{\"oneOf\":[{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"circle\"},\"r\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10}},\"required\":[\"kind\",\"r\"],\"additionalProperties\":false},{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"square\"},\"side\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10}},\"required\":[\"kind\",\"side\"],\"additionalProperties\":false}]}",
            "{\"oneOf\":[{\"type\":\"string\",\"maxLength\":3},{\"type\":\"null\"},{\"type\":\"boolean\"}]}",
            "{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":5}},\"required\":[\"v\"],\"anyOf\":[{\"required\":[\"v\"]}]}",
            "{\"$defs\":{\"point\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9},\"y\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9}},\"required\":[\"x\",\"y\"],\"additionalProperties\":false}},\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/$defs/point\"},\"b\":{\"$ref\":\"#/$defs/point\"}},\"required\":[\"a\",\"b\"]}",
            "{\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9},\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/node\"},\"maxItems\":2}},\"required\":[\"v\"],\"additionalProperties\":false}},\"$ref\":\"#/$defs/node\"}",
            "{\"definitions\":{\"c\":{\"enum\":[\"x\",\"y\"]}},\"type\":\"array\",\"items\":{\"$ref\":\"#/definitions/c\"},\"minItems\":1,\"maxItems\":3}",
            "{\"type\":\"string\",\"pattern\":\"^[A-Z][a-z]{2,5}-[0-9]{3}$\"}",
            "{\"type\":\"string\",\"pattern\":\"^[a-z ]+$\",\"minLength\":4,\"maxLength\":8}",
            "{\"type\":\"string\",\"pattern\":\"^\\\"[a-c]\\\\\\\\[0-9]\\n?$\"}",
            "{\"type\":\"object\",\"properties\":{\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":5},\"maxItems\":3},\"ok\":{\"type\":\"boolean\"}},\"required\":[\"tags\",\"ok\"]}",
            "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"number\"}},\"required\":[\"n\"],\"additionalProperties\":false}",
            "{\"title\":\"T\",\"description\":\"annotations only\",\"$comment\":\"c\",\"examples\":[{\"a\":1}],\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":5,\"default\":1}},\"required\":[\"a\"]}",
            "{\"type\":\"array\",\"items\":{\"type\":[\"integer\",\"null\"],\"minimum\":1,\"maximum\":3},\"minItems\":2,\"maxItems\":2,\"uniqueItems\":false}",
            "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9}},\"required\":[\"id\",\"extra\"],\"additionalProperties\":{\"type\":\"boolean\"}}");

    static final List<GenerationConfig> CONFIGS = List.of(GenerationConfig.greedy(),
            GenerationConfig.sampling(1f).topK(0).seed(1), GenerationConfig.sampling(0.8f).seed(2));

    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    static LanguageModel model;
    static Tokenizer tok;

    @BeforeAll
    static void open() {
        Path dir = Shared.require("models/stories260K");
        tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        model = Families.openDecoder(dir, new CpuBackend(), Families.Engine.CORTADO);
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    static GenerationConfig base(GenerationConfig c) {
        return c.maxNewTokens(300).eosTokenId(2);
    }

    @Test
    void everyOutputValidatesAgainstItsSchema() throws Exception {
        assertTrue(SCHEMAS.size() >= 30);
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
        List<String> failures = new ArrayList<>();
        int outputs = 0;
        for (String s : SCHEMAS) {
            JsonSchema validator = factory.getSchema(s);
            Constraint c = Constraint.jsonSchema(s);
            for (GenerationConfig cfg : CONFIGS) {
                GenerationResult r = new Generator(model, tok, base(cfg).constraint(c)).generate("Once upon a time");
                outputs++;
                String why = check(validator, r);
                if (why != null) failures.add(s + " / " + (cfg.sampling() ? "seed " + cfg.seed() : "greedy") + ": " + why);
            }
        }
        System.out.println(outputs + " outputs checked");
        assertEquals(List.of(), failures);
    }

    /** null when the result ended with EOS, parses and validates; else what is wrong. */
    static String check(JsonSchema validator, GenerationResult r) {
        if (r.finishReason() != FinishReason.EOS) return "finished by " + r.finishReason() + ": " + r.text();
        JsonNode node;
        try {
            node = JSON.readTree(r.text());
        } catch (Exception e) {
            return "not JSON: " + r.text() + " (" + e.getMessage() + ")";
        }
        Set<ValidationMessage> errs = validator.validate(node);
        return errs.isEmpty() ? null : "invalid " + r.text() + ": " + errs;
    }

    @Test
    void beamSearchOutputsValidate() {
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
        List<String> failures = new ArrayList<>();
        for (int i : new int[] {3, 17, 21, 26, 29}) {
            String s = SCHEMAS.get(i);
            GenerationConfig cfg = base(GenerationConfig.beam(3)).numReturnSequences(3).constraint(Constraint.jsonSchema(s));
            List<GenerationResult> rs = new Generator(model, tok, cfg).generateBatch(List.of("Once upon a time"));
            assertEquals(3, rs.size());
            for (GenerationResult r : rs) {
                String why = check(factory.getSchema(s), r);
                if (why != null) failures.add(s + " / beam: " + why);
            }
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void regexAndChoiceOutputs() {
        List<String> patterns = List.of("[a-z]+ (is|was) [0-9]{1,3}", "\\d{3}-\\d{4}", "(Tom|Lily|Ben) (ran|sat)\\.",
                "[A-Z][a-z]{2,6}(, [a-z]{2,6}){1,3}!", "0x[0-9a-f]{4}", "(yes|no)( [a-z]{1,5})?");
        for (String p : patterns) {
            for (GenerationConfig cfg : CONFIGS) {
                GenerationResult r = new Generator(model, tok, base(cfg).constraint(Constraint.regex(p))).generate("Once upon a time");
                assertEquals(FinishReason.EOS, r.finishReason(), p + " " + r.text());
                assertTrue(Pattern.compile(p).matcher(r.text()).matches(), p + " gave " + r.text());
            }
        }
        List<String> choices = List.of("happy", "sad", "very happy", "a dog");
        for (GenerationConfig cfg : CONFIGS) {
            GenerationResult r = new Generator(model, tok, base(cfg).constraint(Constraint.choice(choices))).generate("Lily was");
            assertEquals(FinishReason.EOS, r.finishReason());
            assertTrue(choices.contains(r.text()), r.text());
        }
    }

    @Test
    void runningOutOfTokensIsLengthAndAValidPrefix() {
        Constraint c = Constraint.jsonSchema("{\"type\":\"object\",\"properties\":{\"story\":{\"type\":\"string\"}},\"required\":[\"story\"]}");
        GenerationResult r = new Generator(model, tok, base(GenerationConfig.greedy()).maxNewTokens(12).constraint(c)).generate("Once upon a time");
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals(12, r.ids().length);
        assertTrue(r.text().startsWith("{\"story\":\""), r.text());
        assertTrue(c.isPrefix(r.text()) && !c.matches(r.text()), r.text());
    }

    @Test
    void batchedRowsEachKeepTheirOwnState() {
        Constraint c = Constraint.jsonSchema(SCHEMAS.get(17));
        GenerationConfig cfg = base(GenerationConfig.sampling(1f).seed(5)).numReturnSequences(3).constraint(c);
        List<String> prompts = List.of("Once upon a time", "Tom had a", "The sun");
        List<GenerationResult> batch = new Generator(model, tok, cfg).generateBatch(prompts);
        for (int i = 0; i < prompts.size(); i++) {
            List<GenerationResult> alone = new Generator(model, tok, cfg).generateBatch(List.of(prompts.get(i)));
            for (int j = 0; j < 3; j++) {
                assertEquals(alone.get(j).text(), batch.get(i * 3 + j).text());
                assertTrue(c.matches(batch.get(i * 3 + j).text()));
            }
        }
    }
}
