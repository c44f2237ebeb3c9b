package dev.cortado.model;

import dev.cortado.registry.Families;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue #18, config.json: every field a family reads is validated once ({@link ConfigCheck}), also against the
 * tensors; each error is one line naming the file, the field, its value and the allowed range. Each case edits a
 * real fixture's config.json ({@code null} removes a key) and opens it through {@link Families}.
 */
class ConfigValidationTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String ACTS = "one of gelu, gelu_fast, gelu_new, gelu_pytorch_tanh, relu, silu, swish";

    @TempDir
    Path dir;

    static Stream<Arguments> cases() {
        return Stream.of(
                // heads
                c("tiny-llama", "{\"head_dim\":null,\"num_attention_heads\":0}", "num_attention_heads = 0, must be ≥ 1 and divide hidden_size 64"),
                c("tiny-llama", "{\"num_attention_heads\":-4}", "num_attention_heads = -4, must be ≥ 1 and ≤ 65536"),
                c("tiny-llama", "{\"head_dim\":null,\"num_attention_heads\":3}", "num_attention_heads = 3, must be ≥ 1 and divide hidden_size 64"),
                c("tiny-llama", "{\"num_key_value_heads\":3}", "num_key_value_heads = 3, must be ≥ 1 and divide num_attention_heads 4"),
                c("tiny-llama", "{\"num_key_value_heads\":0}", "num_key_value_heads = 0, must be ≥ 1 and divide num_attention_heads 4"),
                c("tiny-llama", "{\"head_dim\":15}", "head_dim = 15, must be an even number ≥ 2 and ≤ 1048576"),
                c("tiny-gpt2", "{\"n_head\":5}", "n_head = 5, must be ≥ 1 and divide n_embd 64"),
                c("tiny-bart", "{\"encoder_attention_heads\":5}", "encoder_attention_heads = 5, must be ≥ 1 and divide d_model 32"),
                c("tiny-t5", "{\"num_heads\":0}", "num_heads = 0, must be ≥ 1 and ≤ 65536"),
                // rope
                c("tiny-llama-scaled", "{\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8}}",
                        "rope_scaling of type llama3 is missing 'low_freq_factor' (a number > 0)"),
                c("tiny-llama-scaled", "{\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8,\"low_freq_factor\":1,\"high_freq_factor\":4}}",
                        "rope_scaling of type llama3 is missing 'original_max_position_embeddings' (a number > 0)"),
                c("tiny-llama-scaled", "{\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8,\"low_freq_factor\":4,\"high_freq_factor\":4,\"original_max_position_embeddings\":32}}",
                        "rope_scaling.high_freq_factor = 4.0, must be > low_freq_factor 4.0"),
                c("tiny-llama-scaled", "{\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":2}}",
                        "rope_scaling.rope_type = \"yarn\", must be one of default, linear, llama3 (other rope scaling types are not supported)"),
                c("tiny-llama-scaled", "{\"rope_scaling\":{\"type\":\"linear\",\"factor\":0}}", "rope_scaling.factor = 0, must be a finite number > 0"),
                c("tiny-llama-scaled", "{\"rope_scaling\":\"llama3\"}", "rope_scaling = \"llama3\", must be an object or null"),
                c("tiny-llama-scaled", "{\"rope_theta\":0}", "rope_theta = 0, must be a finite number > 0"),
                c("tiny-llama-scaled", "{\"rope_theta\":-10000.0}", "rope_theta = -10000.0, must be a finite number > 0"),
                c("tiny-llama", "{\"rope_parameters\":{\"rope_theta\":-1,\"rope_type\":\"default\"}}", "rope_parameters.rope_theta = -1, must be a finite number > 0"),
                // activations: unknown names are errors, never ignored
                c("tiny-llama", "{\"hidden_act\":\"gelu_foo\"}", "hidden_act = \"gelu_foo\", must be " + ACTS),
                c("tiny-gpt2", "{\"activation_function\":\"swiglu\"}", "activation_function = \"swiglu\", must be " + ACTS),
                c("tiny-bart", "{\"activation_function\":7}", "activation_function = 7, must be " + ACTS),
                c("tiny-t5", "{\"feed_forward_proj\":\"gated-foo\"}", "feed_forward_proj = \"gated-foo\", must be one of gated-gelu, gated-gelu_fast, "
                        + "gated-gelu_new, gated-gelu_pytorch_tanh, gated-relu, gated-silu, gated-swish, gelu, gelu_fast, gelu_new, gelu_pytorch_tanh, relu, silu, swish"),
                // epsilons
                c("tiny-llama", "{\"rms_norm_eps\":0}", "rms_norm_eps = 0, must be a finite number > 0"),
                c("tiny-llama", "{\"rms_norm_eps\":-1.0E-5}", "rms_norm_eps = -1.0E-5, must be a finite number > 0"),
                c("tiny-llama", "{\"rms_norm_eps\":\"NaN\"}", "rms_norm_eps = \"NaN\", must be a number > 0"),
                c("tiny-gpt2", "{\"layer_norm_epsilon\":0}", "layer_norm_epsilon = 0, must be a finite number > 0"),
                c("tiny-t5", "{\"layer_norm_epsilon\":-1}", "layer_norm_epsilon = -1, must be a finite number > 0"),
                // layers against the tensors
                c("tiny-llama", "{\"num_hidden_layers\":0}", "num_hidden_layers = 0, must be ≥ 1 and ≤ 4096"),
                c("tiny-llama", "{\"num_hidden_layers\":1}", "num_hidden_layers = 1, must be the number of layers in %ST (2 found under 'model.layers.N.')"),
                c("tiny-llama", "{\"num_hidden_layers\":3}", "num_hidden_layers = 3, must be the number of layers in %ST (2 found under 'model.layers.N.')"),
                c("tiny-gpt2", "{\"n_layer\":1}", "n_layer = 1, must be the number of layers in %ST (2 found under 'h.N.')"),
                c("tiny-t5", "{\"num_decoder_layers\":3}", "num_decoder_layers = 3, must be the number of layers in %ST (2 found under 'decoder.block.N.')"),
                c("tiny-bart", "{\"encoder_layers\":1}", "encoder_layers = 1, must be the number of layers in %ST (2 found under 'model.encoder.layers.N.')"),
                // vocabulary and positions
                c("tiny-llama", "{\"vocab_size\":0}", "vocab_size = 0, must be ≥ 1 and ≤ 16777216"),
                c("tiny-llama", "{\"vocab_size\":100}", "vocab_size = 100, must be equal to 128, the size of tensor 'model.embed_tokens.weight'"),
                c("tiny-gpt2", "{\"vocab_size\":129}", "vocab_size = 129, must be equal to 128, the size of tensor 'wte.weight'"),
                c("tiny-t5", "{\"vocab_size\":95}", "vocab_size = 95, must be equal to 96, the size of tensor 'shared.weight'"),
                c("tiny-llama", "{\"max_position_embeddings\":0}", "max_position_embeddings = 0, must be ≥ 1 and ≤ 2097152"),
                c("tiny-llama", "{\"max_position_embeddings\":-1}", "max_position_embeddings = -1, must be ≥ 1 and ≤ 2097152"),
                c("tiny-bart", "{\"max_position_embeddings\":0}", "max_position_embeddings = 0, must be ≥ 1 and ≤ 2097152"),
                // wrong JSON types and huge values
                c("tiny-llama", "{\"hidden_size\":\"64\"}", "hidden_size = \"64\", must be an integer in [1, 1048576]"),
                c("tiny-llama", "{\"hidden_size\":[]}", "hidden_size = [], must be an integer in [1, 1048576]"),
                c("tiny-llama", "{\"hidden_size\":2147483647}", "hidden_size = 2147483647, must be ≥ 1 and ≤ 1048576"),
                c("tiny-llama", "{\"hidden_size\":9223372036854775807}", "hidden_size = 9223372036854775807, must be ≥ 1 and ≤ 1048576"),
                c("tiny-llama", "{\"hidden_size\":1e308}", "hidden_size = 1.0E308, must be an integer in [1, 1048576]"),
                c("tiny-llama", "{\"hidden_size\":64.5}", "hidden_size = 64.5, must be an integer in [1, 1048576]"),
                c("tiny-llama", "{\"num_hidden_layers\":null}", "missing field 'num_hidden_layers' (an integer in [1, 4096])"),
                c("tiny-mistral", "{\"sliding_window\":0}", "sliding_window = 0, must be ≥ 1 and ≤ 2097152"),
                c("tiny-llama", "{\"tie_word_embeddings\":\"yes\"}", "tie_word_embeddings = \"yes\", must be true or false"),
                c("tiny-gpt2", "{\"n_positions\":129}", "%ST: tensor 'wpe.weight' has 128 positions but config.json n_positions is 129 (lower n_positions to at most 128)"),
                // head_dim inconsistent with the tensors: named by the tensor it contradicts
                c("tiny-llama", "{\"head_dim\":8}", "%ST: tensor 'model.layers.0.self_attn.q_proj.weight' has shape [64, 64], expected [32, 64]"),
                c("tiny-llama", "{\"intermediate_size\":100}", "%ST: tensor 'model.layers.0.mlp.gate_proj.weight' has shape [128, 64], expected [100, 64]"));
    }

    static Arguments c(String fixture, String edit, String message) {
        return Arguments.of(fixture, edit, message);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void badConfigIsOneLineNamingFieldValueAndRange(String fixture, String edit, String expected) throws Exception {
        Path d = fixture(fixture, edit);
        String st = d.resolve("model.safetensors").toString();
        String want = expected.startsWith("%ST") ? expected.replace("%ST", st) : d.resolve("config.json") + ": " + expected.replace("%ST", st);
        CortadoException e = assertThrows(CortadoException.class, () -> open(fixture, d));
        assertEquals(want, e.getMessage());
    }

    @Test
    void unchangedFixturesStillOpen() throws Exception {
        for (String f : new String[] {"tiny-llama", "tiny-llama-scaled", "tiny-gpt2", "tiny-t5", "tiny-bart"}) {
            open(f, fixture(f, "{}"));
            Files.walk(dir).sorted(java.util.Comparator.reverseOrder()).filter(p -> !p.equals(dir)).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void slidingWindowCapsTheContextInsteadOfAttendingBeyondIt() throws Exception {
        try (var m = Families.openDecoder(fixture("tiny-mistral", "{\"sliding_window\":16}"), new CpuBackend(), Families.Engine.CORTADO)) {
            assertEquals(16, m.maxPositions());
        }
        try (var m = Families.openDecoder(fixture("tiny-qwen2", "{\"sliding_window\":16,\"use_sliding_window\":false}"), new CpuBackend(),
                Families.Engine.CORTADO)) {
            assertEquals(128, m.maxPositions());
        }
    }

    @Test
    void untypedGettersRejectWrongJsonTypes() throws Exception {
        Path d = fixture("tiny-llama", "{\"model_type\":[\"llama\"],\"vocab_size\":\"128\",\"rms_norm_eps\":true,\"use_cache\":1}");
        ModelConfig c = ModelConfig.load(d.resolve("config.json"));
        String f = d.resolve("config.json") + ": ";
        assertEquals(f + "model_type = [\"llama\"], must be a string", assertThrows(CortadoException.class, c::modelType).getMessage());
        assertEquals(f + "vocab_size = \"128\", must be an integer", assertThrows(CortadoException.class, () -> c.integer("vocab_size", 0)).getMessage());
        assertEquals(f + "rms_norm_eps = true, must be a number", assertThrows(CortadoException.class, () -> c.number("rms_norm_eps", 0)).getMessage());
        assertEquals(f + "use_cache = 1, must be true or false", assertThrows(CortadoException.class, () -> c.bool("use_cache", true)).getMessage());
        assertEquals(64, c.integer("hidden_size"));
        assertEquals(2, c.integerAny("num_hidden_layers", "n_layer"));
    }

    @Test
    void configParseErrorIsOneLine() throws Exception {
        Path d = fixture("tiny-llama", "{}");
        Files.writeString(d.resolve("config.json"), "{\n  \"model_type\": \"llama\",\n  \"hidden_size\": 64,,\n}");
        CortadoException e = assertThrows(CortadoException.class, () -> open("tiny-llama", d));
        assertEquals(d.resolve("config.json") + ": not valid JSON at line 3, column 21: Unexpected character (',' (code 44)): "
                + "was expecting double-quote to start field name", e.getMessage());
        Files.writeString(d.resolve("config.json"), "[1, 2]");
        e = assertThrows(CortadoException.class, () -> open("tiny-llama", d));
        assertEquals(d.resolve("config.json") + ": the top level is not a JSON object", e.getMessage());
    }

    @Test
    void generationConfigParseErrorAndBadValuesAreOneLine() throws Exception {
        Path g = dir.resolve("generation_config.json");
        Files.writeString(g, "{\"max_length\": 20,\n\"do_sample\": tru}");
        CortadoException e = assertThrows(CortadoException.class, () -> GenerationConfig.fromFile(g));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith(g + ": not valid JSON at line 2, column "), e.getMessage());
        Map<String, String> bad = Map.of(
                "{\"temperature\": -1}", "generation config: temperature = -1.0 must be >= 0 (0 = greedy)",
                "{\"num_beams\": \"4\"}", "generation config: num_beams = \"4\" is not an integer",
                "{\"top_p\": 0}", "generation config: top_p = 0.0 must be in (0, 1]",
                "{\"max_length\": 0}", "generation config: max_length = 0 must be >= 1");
        for (var c : bad.entrySet()) {
            Files.writeString(g, c.getKey());
            e = assertThrows(CortadoException.class, () -> GenerationConfig.fromFile(g), c.getKey());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertEquals(g + ": " + c.getValue(), e.getMessage());
        }
    }

    Path fixture(String name, String edit) throws Exception {
        Path src = Fixtures.ROOT.resolve(name), d = dir.resolve(name);
        Files.createDirectories(d);
        for (String f : new String[] {"model.safetensors", "generation_config.json"}) Files.copy(src.resolve(f), d.resolve(f));
        ObjectNode config = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
        for (Map.Entry<String, JsonNode> e : JSON.readTree(edit).properties()) {
            if (e.getValue().isNull()) config.remove(e.getKey());
            else config.set(e.getKey(), e.getValue());
        }
        Files.writeString(d.resolve("config.json"), JSON.writeValueAsString(config));
        return d;
    }

    static void open(String fixture, Path d) {
        if (fixture.equals("tiny-t5") || fixture.equals("tiny-bart")) Families.openSeq2Seq(d, new CpuBackend(), Families.Engine.CORTADO).close();
        else Families.openDecoder(d, new CpuBackend(), Families.Engine.CORTADO).close();
    }
}
