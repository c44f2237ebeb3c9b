package dev.cortado.model.bert;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.engine.DefaultModels;
import dev.cortado.engine.EmbeddingModel;
import dev.cortado.registry.Embedders;
import dev.cortado.registry.Families;
import dev.cortado.engine.Pooling;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The int8 MiniLM (DynamicQuantizeLinear/MatMulInteger) runs through ONNX Runtime close to the float model, and on Cortado's engine. */
class QuantizedModelTest {
    @Test
    void int8RunsThroughOrtCloseToFloatModel() {
        List<String> s = List.of("A man is eating food.", "A man is eating a piece of bread.", "The weather is nice.");
        try (EmbeddingModel q = Embedders.open(DefaultModels.minilmQuantized(), null, Families.Engine.ORT, Pooling.MEAN, true);
             EmbeddingModel f = Embedders.open(DefaultModels.minilm(), null, Families.Engine.ORT, Pooling.MEAN, true)) {
            List<float[]> a = q.embed(s, 4), b = f.embed(s, 4);
            for (int i = 0; i < s.size(); i++) {
                double cos = EmbeddingModel.cosine(a.get(i), b.get(i));
                assertTrue(cos > 0.95, "int8 vs fp32 cosine " + cos);
            }
        }
    }

    @Test
    void cortadoEngineRunsTheInt8Graph() {
        // the int8 graph runs on Cortado's own engine (compared with ONNX Runtime in Int8EmbedderVsOrtTest)
        try (EmbeddingModel q = Embedders.open(DefaultModels.minilmQuantized(), null, Families.Engine.CORTADO, Pooling.MEAN, true)) {
            assertTrue(q.embed(List.of("A man is eating food."), 1).getFirst().length == 384);
        }
    }
}
