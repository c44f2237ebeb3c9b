package dev.cortado.generate.constraint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import dev.cortado.CortadoException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The schema compiler without a model: random strings of each schema's language (random walks through its automaton)
 * parse and validate with networknt; integer ranges agree with arithmetic; bad and unsatisfiable schemas fail with
 * one-line errors that name the keyword.
 */
class SchemaCompilerTest {
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    @Test
    void randomMembersOfEveryLanguageValidate() throws Exception {
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
        List<String> schemas = new ArrayList<>(JsonSchemaGenerationTest.SCHEMAS);
        schemas.add("{}");
        schemas.add("{\"type\":\"object\"}");
        schemas.add("{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":3}}");
        schemas.add("{\"type\":\"array\"}");
        schemas.add("{\"type\":\"string\"}");
        schemas.add("{\"minLength\":2,\"maxLength\":3}");
        schemas.add("{\"type\":\"string\",\"pattern\":\"^[αβ\\\\t\\\\u0001]{1,3}$\"}");
        List<String> failures = new ArrayList<>();
        Random rnd = new Random(7);
        for (String s : schemas) {
            JsonSchema v = factory.getSchema(s);
            Constraint c = Constraint.jsonSchema(s);
            for (int i = 0; i < 40; i++) {
                String text = RegexConstraintTest.walk(c.dfa(), rnd);
                JsonNode node;
                try {
                    node = JSON.readTree(text);
                } catch (Exception e) {
                    failures.add(s + ": not JSON " + text);
                    continue;
                }
                var errs = v.validate(node);
                if (!errs.isEmpty()) failures.add(s + ": " + text + " " + errs);
            }
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void jsonObjectIsAnyObject() throws Exception {
        Constraint c = Constraint.jsonObject();
        Random rnd = new Random(3);
        for (int i = 0; i < 100; i++) assertTrue(JSON.readTree(RegexConstraintTest.walk(c.dfa(), rnd)).isObject());
        assertTrue(c.matches("{\"a\":[1,{\"b\":null}],\"c\":\"x\\\"\"}"));
        assertFalse(c.matches("[1]"));
        assertFalse(c.matches("{\"a\": 1}")); // compact: no whitespace
    }

    @Test
    void integerRangesAgreeWithArithmetic() {
        long[][] ranges = {{0, 0}, {-5, 5}, {10, 99}, {7, 1234}, {-1000, -37}, {-9, 120}, {100, 100}, {0, 10_000}};
        for (long[] r : ranges) {
            Constraint c = Constraint.jsonSchema("{\"type\":\"integer\",\"minimum\":" + r[0] + ",\"maximum\":" + r[1] + "}");
            for (long x = -12_000; x <= 12_000; x++)
                assertEquals(x >= r[0] && x <= r[1], c.matches(Long.toString(x)), r[0] + ".." + r[1] + " " + x);
            assertFalse(c.matches("-0"));
            assertFalse(c.matches("007"));
        }
        Constraint open = Constraint.jsonSchema("{\"type\":\"integer\",\"minimum\":-3}");
        assertTrue(open.matches("123456789012345678"));
        assertFalse(open.matches("-4"));
        assertTrue(open.matches("-3"));
    }

    @Test
    void errorsNameTheKeyword() {
        String[][] cases = {
                {"{\"type\":\"string\",\"format\":\"email\"}", "keyword 'format' is not supported"},
                {"{\"allOf\":[{\"type\":\"string\"}]}", "keyword 'allOf' is not supported"},
                {"{\"type\":\"string\",\"nullable\":true}", "keyword 'nullable' is not supported"},
                {"{\"type\":\"number\",\"multipleOf\":2}", "keyword 'multipleOf'"},
                {"{\"type\":\"object\",\"patternProperties\":{}}", "keyword 'patternProperties'"},
                {"{\"not\":{}}", "keyword 'not'"},
                {"{\"type\":\"array\",\"uniqueItems\":true}", "'uniqueItems'"},
                {"{\"type\":\"number\",\"minimum\":0}", "'minimum' is supported for \"type\": \"integer\" only"},
                {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"strin\"}}}", "#/properties/a: 'type' \"strin\""},
                {"{\"$ref\":\"#/$defs/missing\"}", "points to nothing"},
                {"{\"$ref\":\"http://x/y.json\"}", "only local references"},
                {"{\"type\":\"string\",\"pattern\":\"(a\"}", "missing ')'"},
                {"{\"type\":\"string\",\"maxLength\":-1}", "'maxLength' must be a non-negative integer"},
                {"{\"type\":\"array\",\"items\":[{\"type\":\"string\"}]}", "'items' as an array"},
                {"{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"number\"}]}", "'oneOf' branches 0 and 1"},
                {"{\"type\":\"object\",", "not valid JSON"}};
        for (String[] c : cases) {
            CortadoException e = assertThrows(CortadoException.class, () -> Constraint.jsonSchema(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void unsatisfiableSchemasAreErrors() {
        String[] cases = {
                "{\"type\":\"integer\",\"minimum\":5,\"maximum\":4}",
                "{\"type\":\"string\",\"minLength\":5,\"maxLength\":2}",
                "{\"type\":\"array\",\"minItems\":3,\"maxItems\":1}",
                "{\"type\":\"object\",\"properties\":{\"a\":false},\"required\":[\"a\"]}",
                "{\"type\":\"object\",\"required\":[\"b\"],\"additionalProperties\":false}",
                "{\"type\":\"integer\",\"enum\":[\"a\",\"b\"]}",
                "{\"type\":\"string\",\"pattern\":\"^[0-9]+$\",\"maxLength\":0,\"minLength\":1}",
                "{\"$defs\":{\"n\":{\"type\":\"object\",\"properties\":{\"next\":{\"$ref\":\"#/$defs/n\"}},\"required\":[\"next\"]}},\"$ref\":\"#/$defs/n\"}",
                "false"};
        for (String s : cases) {
            CortadoException e = assertThrows(CortadoException.class, () -> Constraint.jsonSchema(s), s);
            assertTrue(e.getMessage().contains("no JSON value satisfies") || e.getMessage().contains("no object satisfies")
                    || e.getMessage().contains("no 'enum'/'const' value satisfies"), s + " -> " + e.getMessage());
        }
        assertTrue(assertThrows(CortadoException.class, () -> Constraint.jsonSchema(cases[7])).getMessage().contains("recursive $ref"));
    }

    @Test
    void propertiesComeInSchemaOrderWithOptionalOnesSkippable() {
        Constraint c = Constraint.jsonSchema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"null\"},\"b\":{\"type\":\"null\"},"
                + "\"c\":{\"type\":\"null\"}},\"required\":[\"b\"],\"additionalProperties\":false}");
        for (String ok : new String[] {"{\"b\":null}", "{\"a\":null,\"b\":null}", "{\"b\":null,\"c\":null}", "{\"a\":null,\"b\":null,\"c\":null}"})
            assertTrue(c.matches(ok), ok);
        for (String bad : new String[] {"{}", "{\"a\":null}", "{\"c\":null,\"b\":null}", "{,\"b\":null}", "{\"b\":null,}"})
            assertFalse(c.matches(bad), bad);
    }
}
