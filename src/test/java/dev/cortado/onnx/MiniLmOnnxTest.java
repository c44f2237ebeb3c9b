package dev.cortado.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384, vocab 30522) as published in the langchain4j Maven Central jars,
 * float32 and dynamically quantized; both cross-checked against ONNX Runtime Java.
 */
class MiniLmOnnxTest {
    @TempDir
    Path dir;

    private Path extract(String resource) throws IOException {
        Path file = dir.resolve(resource.substring(1));
        try (InputStream in = MiniLmOnnxTest.class.getResourceAsStream(resource)) {
            assertNotNull(in, "classpath resource " + resource + " (langchain4j MiniLM jar)");
            Files.copy(in, file);
        }
        return file;
    }

    @Test
    void parsesTheFloat32ModelAndAgreesWithOnnxRuntime() throws Exception {
        Path file = extract("/all-minilm-l6-v2.onnx");
        try (OnnxModel m = OnnxModel.open(file)) {
            Graph g = m.graph();
            assertTrue(g.nodes().size() > 100, "nodes: " + g.nodes().size());
            assertTrue(m.opset() >= 11, "opset " + m.opsetImports());
            assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"), g.inputNames());
            // BERT-base-like shapes: word embeddings [30522, 384], position [512, 384], token types [2, 384]
            Map<List<Long>, Long> shapes = g.initializers().values().stream()
                    .collect(Collectors.groupingBy(t -> boxed(t.shape()), Collectors.counting()));
            assertEquals(1L, shapes.get(List.of(30522L, 384L)), "word embedding");
            assertEquals(1L, shapes.get(List.of(512L, 384L)), "position embedding");
            assertEquals(1L, shapes.get(List.of(2L, 384L)), "token type embedding");
            assertEquals(6L * 4, shapes.get(List.of(384L, 384L)), "q, k, v, o per layer");
            Tensor words = g.initializers().values().stream()
                    .filter(t -> t.rank() == 2 && t.dim(0) == 30522).findFirst().orElseThrow();
            assertEquals(DType.F32, words.dtype());
            assertTrue(g.initializers().keySet().stream().anyMatch(n -> n.contains("word_embeddings")),
                    "initializer names: " + g.initializers().keySet().stream().limit(10).toList());
            float[] row = new float[384];
            for (int i = 0; i < 384; i++) row[i] = words.getFloat(101L * 384 + i); // [CLS]
            double norm = 0;
            for (float v : row) norm += v * v;
            assertTrue(norm > 0.01 && Double.isFinite(norm), "embedding row norm " + norm);
            Set<String> ops = g.nodes().stream().map(Node::opType).collect(Collectors.toSet());
            assertTrue(ops.contains("MatMul") && ops.contains("Gather"), "ops " + ops);
            OrtCheck.assertAgrees(m, file);
        }
    }

    @Test
    void parsesTheQuantizedModelAndAgreesWithOnnxRuntime() throws Exception {
        Path file = extract("/all-minilm-l6-v2-q.onnx");
        try (OnnxModel m = OnnxModel.open(file)) {
            Graph g = m.graph();
            assertTrue(g.nodes().size() > 100);
            Set<DType> dtypes = g.initializers().values().stream().map(Tensor::dtype).collect(Collectors.toSet());
            assertTrue(dtypes.contains(DType.U8) || dtypes.contains(DType.I8), "quantized weights: " + dtypes);
            for (Node n : g.nodes()) {
                if (n.opType().equals("Constant") && n.attributes().containsKey("value")) {
                    assertNotNull(n.attrTensor("value"));
                }
            }
            OrtCheck.assertAgrees(m, file);
        }
    }

    @Test
    void constantAndInitializerShapesAreConsistent() throws Exception {
        Path file = extract("/all-minilm-l6-v2.onnx");
        try (OnnxModel m = OnnxModel.open(file)) {
            for (Tensor t : m.graph().initializers().values()) {
                assertEquals(t.numel() * t.dtype().byteSize(), t.data().byteSize(), t.toString());
            }
            long params = m.graph().initializers().values().stream().filter(t -> t.dtype() == DType.F32)
                    .mapToLong(Tensor::numel).sum();
            // all-MiniLM-L6-v2 has about 22.7 M parameters
            assertTrue(params > 22_000_000 && params < 23_500_000, "float parameters " + params);
            assertArrayEquals(new long[] {30522, 384}, m.graph().initializers().values().stream()
                    .filter(t -> t.rank() == 2 && t.dim(0) == 30522).findFirst().orElseThrow().shape());
        }
    }

    private static List<Long> boxed(long[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }
}
