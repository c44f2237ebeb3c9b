package dev.cortado.generate.constraint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.generate.Generator;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import dev.cortado.tokenizer.Tokenizer;
import dev.cortado.tokenizer.pretokenizers.ByteLevel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The hidden-size fixtures (tiny GPT-2, Qwen2, Llama with random weights, vocabulary 128, from
 * models/fixtures/build_fixtures.py) under every JSON schema of {@link JsonSchemaGenerationTest}, greedy and sampling:
 * each output ends with EOS and validates with networknt. The fixtures ship no tokenizer, so the test gives each a
 * byte-level one: the model's EOS id is a special token, the other 127 ids are the ASCII bytes.
 */
class FixtureModelsConstraintTest {
    @ParameterizedTest
    @ValueSource(strings = {"tiny-gpt2", "tiny-qwen2", "tiny-llama"})
    void everyOutputValidates(String name) throws Exception {
        Path dir = Path.of("models/fixtures", name);
        int eos = new ObjectMapper().readTree(dir.resolve("config.json").toFile()).get("eos_token_id").asInt();
        Tokenizer tok = Tokenizer.fromJson(byteTokenizer(eos));
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
        List<String> failures = new ArrayList<>();
        try (LanguageModel m = Families.openDecoder(dir, new CpuBackend(), Families.Engine.CORTADO)) {
            for (String s : JsonSchemaGenerationTest.SCHEMAS) {
                for (GenerationConfig cfg : List.of(GenerationConfig.greedy(), GenerationConfig.sampling(1f).topK(0).seed(9))) {
                    GenerationResult r = new Generator(m, tok, cfg.maxNewTokens(124).eosTokenId(eos)
                            .constraint(Constraint.jsonSchema(s))).generate("Hi");
                    String why = JsonSchemaGenerationTest.check(factory.getSchema(s), r);
                    if (why != null) failures.add(name + " " + s + ": " + why);
                }
            }
        }
        assertEquals(List.of(), failures);
    }

    /** tokenizer.json: ids 0..127 except {@code eos} are the ASCII bytes (printable first), {@code eos} is special. */
    static String byteTokenizer(int eos) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        ObjectNode added = root.putArray("added_tokens").addObject();
        added.put("id", eos).put("content", "<|eos|>").put("single_word", false).put("lstrip", false).put("rstrip", false)
                .put("normalized", false).put("special", true);
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("unk_token");
        model.put("byte_fallback", false).put("fuse_unk", false);
        ObjectNode vocab = model.putObject("vocab");
        model.putArray("merges");
        List<Integer> bytes = new ArrayList<>();
        for (int b = 32; b < 127; b++) bytes.add(b);
        for (int b = 0; b < 32; b++) bytes.add(b);
        bytes.add(127);
        int next = 0;
        for (int id = 0; id < 128; id++) {
            if (id == eos) continue;
            vocab.put(ByteLevel.toByteChars(String.valueOf((char) (int) bytes.get(next++))), id);
        }
        return root.toString();
    }
}
