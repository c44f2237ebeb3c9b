package dev.cortado.generate;

import dev.cortado.CortadoException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerationConfigTest {
    @Test
    void huggingFaceDefaults() {
        GenerationConfig c = GenerationConfig.defaults();
        assertEquals(20, c.maxLength());
        assertEquals(50, c.topK());
        assertEquals(1f, c.topP());
        assertEquals(1, c.numBeams());
        assertEquals(EarlyStopping.FALSE, c.earlyStopping());
        assertNull(c.maxNewTokens());
        c.validate();
    }

    @Test
    void readsMarianStyleFileIgnoringUnknownKeys(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("generation_config.json");
        Files.writeString(f, """
                {"_from_model_config": true, "bad_words_ids": [[58100]], "bos_token_id": 0,
                 "decoder_start_token_id": 58100, "eos_token_id": 0, "forced_eos_token_id": 0, "max_length": 512,
                 "num_beams": 4, "pad_token_id": 58100, "renormalize_logits": true, "transformers_version": "4.34.0",
                 "early_stopping": "never", "length_penalty": 0.6, "stop_strings": "###", "top_p": null}
                """);
        GenerationConfig c = GenerationConfig.fromFile(f);
        assertEquals(List.of(List.of(58100)), c.badWordsIds());
        assertEquals(58100, c.decoderStartTokenId());
        assertEquals(List.of(0), c.eosTokenIds());
        assertEquals(0, c.forcedEosTokenId());
        assertEquals(512, c.maxLength());
        assertEquals(4, c.numBeams());
        assertEquals(EarlyStopping.NEVER, c.earlyStopping());
        assertEquals(0.6f, c.lengthPenalty());
        assertEquals(List.of("###"), c.stopStrings());
        assertEquals(1f, c.topP());
        GenerationConfig o = c.withOverrides(Map.of("num_beams", 1, "do_sample", true, "temperature", 0.5,
                "eos_token_id", List.of(0, 7), "logit_bias", Map.of("5", -2.5), "early_stopping", true));
        assertEquals(1, o.numBeams());
        assertTrue(o.sampling());
        assertEquals(0.5f, o.temperature());
        assertEquals(List.of(0, 7), o.eosTokenIds());
        assertEquals(Map.of(5, -2.5f), o.logitBias());
        assertEquals(EarlyStopping.TRUE, o.earlyStopping());
        assertEquals(512, o.maxLength(), "untouched knobs are kept");
    }

    @Test
    void fileErrorsNameTheFileAndKey(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("generation_config.json");
        Files.writeString(f, "{\"num_beams\": \"four\"}");
        CortadoException e = assertThrows(CortadoException.class, () -> GenerationConfig.fromFile(f));
        assertTrue(e.getMessage().contains("num_beams") && e.getMessage().contains(f.toString()), e.getMessage());
        Files.writeString(f, "{not json");
        e = assertThrows(CortadoException.class, () -> GenerationConfig.fromFile(f));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
        e = assertThrows(CortadoException.class, () -> GenerationConfig.fromFile(dir.resolve("missing.json")));
        assertTrue(e.getMessage().contains("missing.json"), e.getMessage());
        e = assertThrows(CortadoException.class, () -> GenerationConfig.defaults().withOverrides(Map.of("temprature", 1)));
        assertTrue(e.getMessage().contains("temprature"), e.getMessage());
    }

    static void rejects(String knob, Supplier<GenerationConfig> c) {
        CortadoException e = assertThrows(CortadoException.class, () -> c.get().validate(), knob);
        assertTrue(e.getMessage().contains(knob), e.getMessage());
    }

    @Test
    void badKnobsGiveClearErrors() {
        GenerationConfig d = GenerationConfig.defaults();
        rejects("temperature", () -> d.temperature(-0.1f));
        rejects("temperature", () -> d.temperature(Float.NaN));
        rejects("top_p", () -> d.topP(0f));
        rejects("top_p", () -> d.topP(1.5f));
        rejects("top_k", () -> d.topK(-1));
        rejects("min_p", () -> d.minP(1.5f));
        rejects("typical_p", () -> d.typicalP(0f));
        rejects("max_new_tokens", () -> d.maxNewTokens(-1));
        rejects("max_length", () -> d.maxLength(0));
        rejects("min_new_tokens", () -> d.minNewTokens(-3));
        rejects("num_beams", () -> d.numBeams(0));
        rejects("num_return_sequences", () -> d.numBeams(2).numReturnSequences(3));
        rejects("num_return_sequences", () -> d.numReturnSequences(2));
        rejects("repetition_penalty", () -> d.repetitionPenalty(0f));
        rejects("repetition_penalty", () -> d.repetitionPenalty(-1f));
        rejects("presence_penalty", () -> d.presencePenalty(3f));
        rejects("frequency_penalty", () -> d.frequencyPenalty(-2.5f));
        rejects("no_repeat_ngram_size", () -> d.noRepeatNgramSize(-1));
        rejects("bad_words_ids", () -> d.badWordsIds(List.of(List.of())));
        rejects("eos_token_id", () -> d.eosTokenId(-2));
        rejects("stop_strings", () -> d.stopStrings(""));
        rejects("logprobs", () -> d.logprobs(-1));
        rejects("length_penalty", () -> d.lengthPenalty(Float.NaN));
        rejects("decoder_start_token_id", () -> d.encoderDecoder(true));
        rejects("beam sampling", () -> d.numBeams(2).doSample(true));
        Map<Integer, Float> nan = new HashMap<>();
        nan.put(3, Float.NaN);
        rejects("logit_bias", () -> d.logitBias(nan));
        // sampling may return several sequences from one beam; temperature 0 is allowed (greedy)
        d.doSample(true).numReturnSequences(3).validate();
        d.temperature(0f).validate();
    }

    @Test
    void generatorRejectsBadConfigAndPrompts() {
        TableModel m = new TableModel(TableModel.goldens());
        assertThrows(CortadoException.class, () -> new Generator(m, null, GenerationConfig.defaults().topP(2f)));
        Generator g = new Generator(m, null, GenerationConfig.greedy().maxNewTokens(4));
        CortadoException e = assertThrows(CortadoException.class, () -> g.generateIds(new int[][] {{1, 99}}));
        assertTrue(e.getMessage().contains("99"), e.getMessage());
        e = assertThrows(CortadoException.class, () -> g.generateIds(new int[][] {{}}));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        assertThrows(CortadoException.class, () -> new Generator(m, null, GenerationConfig.greedy().stopStrings("x")));
        assertThrows(CortadoException.class, () -> g.generate("text needs a tokenizer"));
    }
}
