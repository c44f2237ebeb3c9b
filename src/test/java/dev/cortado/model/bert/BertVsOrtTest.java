package dev.cortado.model.bert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.DefaultModels;
import dev.cortado.engine.EmbeddingModel;
import dev.cortado.registry.Embedders;
import dev.cortado.engine.EncoderRunner;
import dev.cortado.engine.Pooling;
import dev.cortado.ort.OrtEncoder;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Cortado's BERT forward pass against ONNX Runtime Java (the oracle) on the same tokens. */
class BertVsOrtTest {
    static Path dir;
    static EncoderRunner cortado, ort;
    static Tokenizer tokenizer;

    @BeforeAll
    static void open() {
        dir = DefaultModels.minilm();
        cortado = Embedders.openCortado(dir.resolve("model.onnx"), new CpuBackend());
        ort = new OrtEncoder(dir.resolve("model.onnx"), 512);
        tokenizer = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
    }

    @AfterAll
    static void close() {
        cortado.close();
        ort.close();
    }

    static List<String> sentences() {
        List<String> s = new ArrayList<>(List.of("", "word", "Hello!", "A man is eating food.",
                "The quick brown fox jumps over the lazy dog.", "naïve café résumé — déjà vu", "Grüße aus München, schönes Wetter.",
                "東京は日本の首都です。", "Emoji 😀🎉 and symbols ©®™", "   leading and trailing spaces   ",
                "Tabs\tand\nnewlines", "Numbers 12345 and 3.14159 and 1e-9", "URL https://example.com/a?b=c&d=e",
                "email someone@example.org", "CamelCaseWordsAndSnake_case_words", "ALL CAPS SENTENCE HERE",
                "Привет, как дела?", "مرحبا بالعالم", "שלום עולם", "Ελληνικά γράμματα", "한국어 문장입니다",
                "Mixed: English, Deutsch, français, español.", "a", "?", "...", "don't can't won't shouldn't",
                "The package provides a library for parsing JSON documents.",
                "This package contains the documentation for the Python interpreter.",
                "Debian is a free operating system.", "Sentence embeddings map text to vectors."));
        String[] words = {"data", "model", "vector", "token", "engine", "runtime", "graph", "tensor", "kernel", "cache"};
        for (int i = 0; s.size() < 56; i++) {
            StringBuilder b = new StringBuilder();
            for (int j = 0; j <= (i * 7) % 40; j++) b.append(words[(i + j * 3) % words.length]).append(j % 5 == 4 ? ". " : " ");
            s.add(b.toString().trim());
        }
        s.add("long ".repeat(700).trim());   // > 512 tokens: truncated at the model's maximum
        s.add("The history of computing is long and varied; ".repeat(30)); // ~300 tokens
        return s;
    }

    @Test
    void pooledEmbeddingsMatchOrtOnVariedSentencesInMixedBatches() {
        List<String> s = sentences();
        assertTrue(s.size() >= 50);
        // not closed here: the runners are shared by the class and closed in @AfterAll
        EmbeddingModel c = new EmbeddingModel(tokenizer, cortado, Pooling.MEAN, true, 512);
        EmbeddingModel o = new EmbeddingModel(tokenizer, ort, Pooling.MEAN, true, 512);
        {
            List<float[]> a = c.embed(s, 7), b = o.embed(s, 7);
            double worst = 0;
            for (int i = 0; i < s.size(); i++) {
                for (int j = 0; j < a.get(i).length; j++) worst = Math.max(worst, Math.abs(a.get(i)[j] - b.get(i)[j]));
            }
            assertTrue(worst <= 1e-4, "max abs diff " + worst);
        }
    }

    @Test
    void hiddenStatesMatchOrtWithPaddingAndClsPooling() {
        int[][] ids = {{101, 7592, 2088, 999, 102, 0, 0}, {101, 1037, 2158, 2003, 5983, 2833, 102}};
        boolean[][] valid = {{true, true, true, true, true, false, false}, {true, true, true, true, true, true, true}};
        float[][][] a = cortado.lastHiddenState(ids, new int[2][7], valid), b = ort.lastHiddenState(ids, new int[2][7], valid);
        double worst = 0;
        for (int i = 0; i < 2; i++) for (int j = 0; j < 7; j++) {
            if (!valid[i][j]) continue;
            for (int e = 0; e < a[i][j].length; e++) worst = Math.max(worst, Math.abs(a[i][j][e] - b[i][j][e]));
        }
        assertTrue(worst <= 1e-4, "max abs diff " + worst);
        float[] cls = Pooling.CLS.pool(a[1], valid[1]);
        assertEquals(b[1][0][5], cls[5], 1e-4);
    }
}
