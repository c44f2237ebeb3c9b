package dev.cortado.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import dev.cortado.engine.DefaultModels;
import dev.cortado.runtime.Cortado;
import dev.cortado.tokenizer.Tokenizer;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link CortadoEmbeddingModel} through LangChain4j's {@link EmbeddingModel} API against Cortado's own embeddings
 * ({@link Cortado#embed}) of the same texts with all-MiniLM-L6-v2 (the MiniLM jar is a test dependency; the core's
 * EmbeddingGoldenTest and BertVsOrtTest check those against sentence-transformers and ONNX Runtime).
 */
class CortadoEmbeddingModelTest {
    static CortadoEmbeddingModel model;
    static List<String> texts = new ArrayList<>();

    @BeforeAll
    static void open() {
        model = CortadoEmbeddingModel.builder().build(); // the default: all-MiniLM-L6-v2 from its jar
        String[] subjects = {"A man", "A woman", "The child", "A dog", "Two cats", "The chef", "A pilot", "My neighbour"};
        String[] actions = {"is eating food.", "plays the guitar on a quiet evening by the river.", "reads a book.",
                "is running through the park while it rains heavily and the wind blows."};
        for (String s : subjects) for (String a : actions) texts.add(s + " " + a); // 32 texts
        texts.addAll(List.of("Héllo wörld — ünïcode ✓", "x", "Cortado runs transformer models from Java."));  // 35: two batches
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    static List<TextSegment> segments(List<String> texts) {
        return texts.stream().map(TextSegment::from).toList();
    }

    @Test
    void embedAllEqualsCortadosEmbeddings() {
        Response<List<Embedding>> r = model.embedAll(segments(texts));
        List<float[]> want;
        try (Cortado rt = Cortado.open(DefaultModels.minilm())) {
            want = rt.embed(texts);
        }
        assertEquals(texts.size(), r.content().size());
        for (int i = 0; i < texts.size(); i++) assertArrayEquals(want.get(i), r.content().get(i).vector(), texts.get(i));
        // token usage: the texts' tokens as the model sees them ([CLS] … [SEP], not the padding that its tokenizer.json
        // asks for), counted by the tokenizer alone
        Tokenizer tok = Tokenizer.fromFile(DefaultModels.minilm().resolve("tokenizer.json"));
        int tokens = texts.stream().mapToInt(t -> java.util.Arrays.stream(tok.encode(t, true).attentionMask()).sum()).sum();
        assertEquals(tokens, r.tokenUsage().inputTokenCount());
        assertEquals(384, model.dimension()); // all-MiniLM-L6-v2's model card
        assertEquals("all-minilm-l6-v2", model.modelName());
        // one text through embed(String): the same vector up to float rounding (alone, it is padded differently)
        float[] one = model.embed(texts.get(3)).content().vector();
        for (int j = 0; j < one.length; j++) assertEquals(want.get(3)[j], one[j], 1e-6);
    }

    @Test
    void otherBatchSizesGiveTheSameVectors() {
        List<Embedding> big = model.embedAll(segments(texts)).content();
        try (CortadoEmbeddingModel small = CortadoEmbeddingModel.builder().modelPath(DefaultModels.minilm()).batchSize(3).build()) {
            List<Embedding> got = small.embedAll(segments(texts)).content();
            for (int i = 0; i < texts.size(); i++) {
                float[] a = big.get(i).vector(), b = got.get(i).vector();
                for (int j = 0; j < a.length; j++) assertEquals(a[j], b[j], 1e-6, texts.get(i) + " [" + j + "]");
            }
            assertEquals("all-minilm-l6-v2", small.modelName()); // the folder's name
        }
    }

    @Test
    void scoringModelIsTheCosineOfCortadosEmbeddings() {
        String query = "Someone is eating.";
        List<String> docs = texts.subList(0, 8);
        List<Double> scores = CortadoScoringModel.of(model).scoreAll(segments(docs), query).content();
        List<String> all = new ArrayList<>(List.of(query));
        all.addAll(docs);
        List<float[]> want;
        try (Cortado rt = Cortado.open(DefaultModels.minilm())) {
            want = rt.embed(all);
        }
        for (int i = 0; i < docs.size(); i++)
            assertEquals(dev.cortado.engine.EmbeddingModel.cosine(want.get(0), want.get(i + 1)), scores.get(i), 1e-12, docs.get(i));
        // "A man is eating food." ranks above "A man plays the guitar…"
        assertTrue(scores.get(0) > scores.get(1) + 0.2, scores.toString());
        assertTrue(model.embed("x").content() != null, "CortadoScoringModel.of leaves the embedding model open");
    }

    @Test
    void emptyInputIsAnEmptyResponse() {
        assertTrue(model.embedAll(List.of()).content().isEmpty());
    }

    static CortadoException fails(org.junit.jupiter.api.function.Executable e) {
        CortadoException x = assertThrows(CortadoException.class, e);
        assertTrue(!x.getMessage().contains("\n"), "one line: " + x.getMessage());
        return x;
    }

    @Test
    void badInputGivesOneClearLine() {
        assertTrue(fails(() -> CortadoEmbeddingModel.builder().modelPath("no/such/model").build()).getMessage()
                .startsWith("model not found: "));
        assertTrue(fails(() -> CortadoEmbeddingModel.builder().batchSize(0).build()).getMessage().contains("batchSize = 0"));
        Path stories = Fixtures.stories();
        assertTrue(fails(() -> CortadoEmbeddingModel.builder().modelPath(stories).build()).getMessage()
                .contains("use CortadoChatModel"));
        CortadoEmbeddingModel m = CortadoEmbeddingModel.builder().build();
        m.close();
        assertTrue(fails(() -> m.embed("x")).getMessage().contains("is closed"));
    }
}
