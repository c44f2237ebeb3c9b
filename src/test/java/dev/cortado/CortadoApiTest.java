package dev.cortado;

import dev.cortado.device.Device;
import dev.cortado.runtime.Cortado;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.engine.DefaultModels;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.testing.Shared;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Java facade over the three kinds of model; goldens from llama2.c and sentence-transformers (see the CLI tests). */
class CortadoApiTest {
    @Test
    void decoderEmbedderAndDeviceErrors() throws Exception {
        var g = new ObjectMapper().readTree(Shared.require("models/stories260K/goldens.json").toFile()).get("prompt_greedy").get(0);
        try (Cortado rt = Cortado.open(Shared.require("models/stories260K"))) {
            StringBuilder streamed = new StringBuilder();
            var r = rt.generator(GenerationConfig.greedy().maxNewTokens(60)).generate("Once upon a time", t -> streamed.append(t.text()));
            assertEquals(g.get("new_text").asText(), r.text());
            assertEquals(r.text(), streamed.toString());
            assertThrows(CortadoException.class, () -> rt.embed(List.of("x")));
        }
        try (Cortado rt = Cortado.open(DefaultModels.minilm())) {
            List<float[]> v = rt.embed(List.of("A man is eating food.", "A man is eating a piece of bread."));
            assertEquals(0.7553, dev.cortado.engine.EmbeddingModel.cosine(v.get(0), v.get(1)), 5e-4);
        }
        CortadoException e = assertThrows(CortadoException.class, () -> Cortado.open(DefaultModels.minilm(), Device.cuda(0)));
        assertTrue(e.getMessage().contains("no CUDA driver found") || e.getMessage().contains("not wired"), e.getMessage());
    }
}
