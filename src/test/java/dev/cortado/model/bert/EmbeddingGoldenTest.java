package dev.cortado.model.bert;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cortado.engine.DefaultModels;
import dev.cortado.registry.Embedders;
import dev.cortado.registry.Families;
import dev.cortado.engine.EmbeddingModel;
import dev.cortado.engine.Pooling;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The acceptance values for all-MiniLM-L6-v2. Reference: sentence-transformers (mean pooling + Normalize)
 * run through onnxruntime, as quoted in issue 3: cosine 0.7553 ± 0.0005 and the first five dimensions of the first
 * vector 0.03324, 0.00441, −0.00628, 0.04838, −0.13870 (± 2e-4).
 */
class EmbeddingGoldenTest {
    @ParameterizedTest
    @EnumSource(Families.Engine.class)
    void matchesSentenceTransformers(Families.Engine engine) {
        try (EmbeddingModel m = Embedders.open(DefaultModels.minilm(), null, engine, Pooling.MEAN, true)) {
            List<float[]> v = m.embed(List.of("A man is eating food.", "A man is eating a piece of bread."), 8);
            assertEquals(0.7553, EmbeddingModel.cosine(v.get(0), v.get(1)), 0.0005);
            float[] expected = {0.03324f, 0.00441f, -0.00628f, 0.04838f, -0.13870f};
            for (int i = 0; i < 5; i++) assertEquals(expected[i], v.get(0)[i], 2e-4, "dim " + i);
        }
    }
}
