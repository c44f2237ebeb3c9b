package dev.cortado.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.cortado.safetensors.Safetensors;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import dev.cortado.testing.Shared;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The shared stories260K export (written by tools/export_onnx.py with the official onnx package). */
class Stories260kOnnxTest {
    static final String ONNX = "models/stories260K/onnx/model.onnx";
    static final String SAFETENSORS = "models/stories260K/model.safetensors";
    static final int LAYERS = 5;

    static List<String> expectedInputs() {
        List<String> in = new ArrayList<>(List.of("input_ids", "attention_mask", "position_ids"));
        for (int i = 0; i < LAYERS; i++) {
            in.add("past_key_values." + i + ".key");
            in.add("past_key_values." + i + ".value");
        }
        return in;
    }

    static List<String> expectedOutputs() {
        List<String> out = new ArrayList<>(List.of("logits"));
        for (int i = 0; i < LAYERS; i++) {
            out.add("present." + i + ".key");
            out.add("present." + i + ".value");
        }
        return out;
    }

    @Test
    void headerInputsAndOutputsMatchTheReadme() {
        try (OnnxModel m = OnnxModel.open(Shared.require(ONNX))) {
            assertEquals(8, m.irVersion());
            assertEquals(17L, m.opsetImports().get(""));
            assertEquals(17, m.opset());
            Graph g = m.graph();
            assertEquals(expectedInputs(), g.inputNames());
            assertEquals(expectedOutputs(), g.outputNames());

            ValueInfo ids = g.inputs().get(0);
            assertEquals(DType.I64, ids.elemType());
            assertEquals(List.of("batch_size", "sequence_length"), ids.dims());
            assertEquals(List.of("batch_size", "total_sequence_length"), g.inputs().get(1).dims());
            ValueInfo pastKey = g.inputs().get(3);
            assertEquals(DType.F32, pastKey.elemType());
            assertEquals(List.of("batch_size", 4L, "past_sequence_length", 8L), pastKey.dims());
            ValueInfo logits = g.outputs().get(0);
            assertEquals(DType.F32, logits.elemType());
            assertEquals(List.of("batch_size", "sequence_length", 512L), logits.dims());
            assertEquals(List.of("batch_size", 4L, "total_sequence_length", 8L), g.outputs().get(1).dims());

            Set<String> allowedOps = Set.of("Gather", "MatMul", "Mul", "Add", "Sub", "Div", "Pow", "ReduceMean", "Sqrt",
                    "Sigmoid", "Softmax", "Concat", "Reshape", "Transpose", "Slice", "Neg", "Unsqueeze", "Shape", "Range",
                    "LessOrEqual", "Cast", "And", "Where");
            assertTrue(g.nodes().size() > 50);
            Set<String> used = g.nodes().stream().map(Node::opType).collect(Collectors.toSet());
            assertTrue(allowedOps.containsAll(used), "unexpected ops " + used);
            for (Node n : g.nodes()) assertEquals("", n.domain());
        }
    }

    @Test
    void initializersEqualTheSafetensorsWeightsTransposedWhereNamedDotT() {
        try (OnnxModel m = OnnxModel.open(Shared.require(ONNX));
             Safetensors st = Safetensors.open(Shared.require(SAFETENSORS))) {
            Map<String, Tensor> inits = m.graph().initializers();
            Tensor emb = inits.get("model.embed_tokens.weight");
            assertNotNull(emb);
            assertEquals(DType.F32, emb.dtype());
            assertArrayEquals(new long[] {512, 64}, emb.shape());
            assertArrayEquals(new long[] {512, 8}, inits.get("rope_cos_table").shape());
            assertArrayEquals(new long[] {512, 8}, inits.get("rope_sin_table").shape());

            int compared = 0, transposed = 0;
            for (Map.Entry<String, Tensor> e : st.tensors().entrySet()) {
                Tensor hf = e.getValue();
                Tensor plain = inits.get(e.getKey());
                Tensor t = inits.get(e.getKey() + ".T");
                if (plain != null) {
                    assertArrayEquals(hf.shape(), plain.shape(), e.getKey());
                    assertArrayEquals(hf.toFloatArray(), plain.toFloatArray(), e.getKey());
                } else if (t != null) {
                    assertEquals(2, hf.rank());
                    assertArrayEquals(new long[] {hf.dim(1), hf.dim(0)}, t.shape(), e.getKey());
                    long rows = hf.dim(0), cols = hf.dim(1);
                    for (long r = 0; r < rows; r++) {
                        for (long c = 0; c < cols; c++) {
                            if (Float.floatToRawIntBits(hf.getFloat(r * cols + c)) != Float.floatToRawIntBits(t.getFloat(c * rows + r))) {
                                fail(e.getKey() + " differs at [" + r + ", " + c + "]");
                            }
                        }
                    }
                    transposed++;
                } else {
                    fail("no ONNX initializer for safetensors tensor " + e.getKey());
                }
                compared++;
            }
            assertEquals(47, compared);
            assertEquals(5 * 7, transposed); // q, k, v, o, gate, up, down per layer
            Tensor q = inits.get("model.layers.0.self_attn.q_proj.weight.T");
            assertArrayEquals(new long[] {64, 64}, q.shape());
            assertTrue(q.data().isNative(), "raw_data should be a zero-copy slice of the mapping");
        }
    }

    @Test
    void graphIndexesFollowTheTiedLmHead() {
        try (OnnxModel m = OnnxModel.open(Shared.require(ONNX))) {
            Graph g = m.graph();
            List<Node> users = g.consumers("model.embed_tokens.weight");
            Set<String> ops = users.stream().map(Node::opType).collect(Collectors.toSet());
            assertEquals(Set.of("Gather", "Transpose"), ops);
            Node transpose = users.stream().filter(n -> n.opType().equals("Transpose")).findFirst().orElseThrow();
            String lmHead = transpose.outputs().getFirst();
            assertEquals(transpose, g.producer(lmHead));
            assertTrue(g.consumers(lmHead).stream().anyMatch(n -> n.opType().equals("MatMul")));
            Node logits = g.producer("logits");
            assertNotNull(logits);
            assertEquals("MatMul", logits.opType());
        }
    }

    @Test
    void namesAgreeWithOnnxRuntime() throws Exception {
        Path file = Shared.require(ONNX);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxModel m = OnnxModel.open(file);
             OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
             OrtSession session = env.createSession(file.toString(), opts)) {
            assertEquals(List.copyOf(session.getInputInfo().keySet()), m.graph().inputNames());
            assertEquals(List.copyOf(session.getOutputInfo().keySet()), m.graph().outputNames());
            assertEquals(session.getMetadata().getProducerName(), m.producerName());
            assertEquals(session.getMetadata().getGraphName(), m.graph().name());
        }
    }
}
