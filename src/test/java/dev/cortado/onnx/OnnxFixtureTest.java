package dev.cortado.onnx;

import static dev.cortado.onnx.Fixtures.BFLOAT16;
import static dev.cortado.onnx.Fixtures.BOOL;
import static dev.cortado.onnx.Fixtures.DOUBLE;
import static dev.cortado.onnx.Fixtures.FLOAT;
import static dev.cortado.onnx.Fixtures.FLOAT16;
import static dev.cortado.onnx.Fixtures.INT32;
import static dev.cortado.onnx.Fixtures.INT64;
import static dev.cortado.onnx.Fixtures.INT8;
import static dev.cortado.onnx.Fixtures.STRING;
import static dev.cortado.onnx.Fixtures.UINT8;
import static dev.cortado.onnx.Fixtures.attr;
import static dev.cortado.onnx.Fixtures.model;
import static dev.cortado.onnx.Fixtures.node;
import static dev.cortado.onnx.Fixtures.rawFloats;
import static dev.cortado.onnx.Fixtures.tensor;
import static dev.cortado.onnx.Fixtures.valueInfo;
import static dev.cortado.onnx.Fixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fixture models written by {@link ProtoWriter}: typed tensor fields, attributes, subgraphs, value infos. */
class OnnxFixtureTest {
    @TempDir
    Path dir;

    private static final String[] NONE = {};

    @Test
    void decodesTypedTensorFieldsPackedAndUnpacked() throws Exception {
        ProtoWriter g = new ProtoWriter().string(2, "typed");
        g.message(5, tensor("f32_packed", FLOAT, 3).packedFloats(4, 1.5f, -2f, 3.25f));
        g.message(5, tensor("f32_unpacked", FLOAT, 2).float32(4, 0.5f).float32(4, -0.25f));
        g.message(5, tensor("i64_packed", INT64, 3).packedVarints(7, -1, 5_000_000_000L, 7));
        g.message(5, tensor("i64_unpacked", INT64, 2).varint(7, 1L << 33).varint(7, -5));
        g.message(5, tensor("i32", INT32, 2).packedVarints(5, -7, Integer.MAX_VALUE));
        // float16 1.5 = 0x3E00, -2 = 0xC000; bfloat16 1.5 = 0x3FC0, -2 = 0xC000 (bit patterns in int32_data)
        g.message(5, tensor("f16", FLOAT16, 2).packedVarints(5, 0x3E00, 0xC000));
        g.message(5, tensor("bf16", BFLOAT16, 2).varint(5, 0x3FC0).varint(5, 0xC000));
        g.message(5, tensor("i8", INT8, 2).packedVarints(5, -3, 127));
        g.message(5, tensor("u8", UINT8, 2).packedVarints(5, 200, 0));
        g.message(5, tensor("bool", BOOL, 3).packedVarints(5, 1, 0, 1));
        g.message(5, tensor("f64", DOUBLE, 2).packedDoubles(10, 0.1, -1e300));
        g.message(5, tensor("f64_unpacked", DOUBLE, 1).fixed64(10, Double.doubleToRawLongBits(2.5)));
        g.message(5, rawFloats("raw", new long[] {2, 2}, 1f, 2f, 3f, 4f));
        g.message(5, rawFloats("scalar", new long[] {}, 9f));
        g.message(5, tensor("empty", FLOAT, 0, 4));
        try (OnnxModel m = OnnxModel.open(write(dir.resolve("typed.onnx"), model(g)))) {
            Map<String, Tensor> t = m.graph().initializers();
            assertEquals(List.of("f32_packed", "f32_unpacked", "i64_packed", "i64_unpacked", "i32", "f16", "bf16", "i8",
                    "u8", "bool", "f64", "f64_unpacked", "raw", "scalar", "empty"), List.copyOf(t.keySet()));
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f}, t.get("f32_packed").toFloatArray());
            assertArrayEquals(new float[] {0.5f, -0.25f}, t.get("f32_unpacked").toFloatArray());
            assertArrayEquals(new long[] {-1, 5_000_000_000L, 7}, t.get("i64_packed").toLongArray());
            assertArrayEquals(new long[] {1L << 33, -5}, t.get("i64_unpacked").toLongArray());
            assertArrayEquals(new long[] {-7, Integer.MAX_VALUE}, t.get("i32").toLongArray());
            assertEquals(DType.F16, t.get("f16").dtype());
            assertEquals(4, t.get("f16").data().byteSize());
            assertArrayEquals(new float[] {1.5f, -2f}, t.get("f16").toFloatArray());
            assertArrayEquals(new float[] {1.5f, -2f}, t.get("bf16").toFloatArray());
            assertArrayEquals(new long[] {-3, 127}, t.get("i8").toLongArray());
            assertArrayEquals(new long[] {200, 0}, t.get("u8").toLongArray());
            assertArrayEquals(new long[] {1, 0, 1}, t.get("bool").toLongArray());
            assertEquals(DType.BOOL, t.get("bool").dtype());
            assertEquals(0.1, t.get("f64").data().getAtIndex(Tensor.F64_LE, 0));
            assertEquals(-1e300, t.get("f64").data().getAtIndex(Tensor.F64_LE, 1));
            assertEquals(2.5, t.get("f64_unpacked").data().getAtIndex(Tensor.F64_LE, 0));
            assertArrayEquals(new long[] {2, 2}, t.get("raw").shape());
            assertArrayEquals(new float[] {1f, 2f, 3f, 4f}, t.get("raw").toFloatArray());
            assertEquals(0, t.get("scalar").rank());
            assertEquals(9f, t.get("scalar").getFloat(0));
            assertEquals(0, t.get("empty").numel());
            assertEquals(8, m.irVersion());
            assertEquals("fixture", m.producerName());
            assertEquals(Map.of("", 17L), m.opsetImports());
            assertEquals("typed", m.graph().name());
        }
    }

    @Test
    void parsesNodesAttributesValueInfosAndIndexes() throws Exception {
        ProtoWriter constant = tensor("c", INT64, 2).packedVarints(7, 4, 5);
        ProtoWriter g = new ProtoWriter()
                .message(1, node("Constant", "const", NONE, new String[] {"shape"},
                        attr("value", 4).message(5, constant)))
                .message(1, node("Reshape", "reshape", new String[] {"x", "shape"}, new String[] {"y"}))
                .message(1, node("Custom", "custom", new String[] {"y", "", "y"}, new String[] {"z"},
                        attr("alpha", 1).float32(2, 0.125f),
                        attr("axis", 2).varint(3, -1),
                        attr("mode", 3).string(4, "linear"),
                        attr("scales", 6).packedFloats(7, 1f, 2f),
                        attr("perm", 7).packedVarints(8, 0, 2, 1),
                        attr("names", 8).string(9, "a").string(9, "b"),
                        new ProtoWriter().string(1, "untyped").varint(3, 42)).string(7, "com.example"))
                .string(2, "main")
                .message(11, valueInfo("x", FLOAT, "batch", 20L, null))
                .message(12, valueInfo("z", STRING))
                .message(12, new ProtoWriter().string(1, "noshape")
                        .message(2, new ProtoWriter().message(1, new ProtoWriter().varint(1, INT64))));
        ProtoWriter m = model(g).message(8, new ProtoWriter().string(1, "com.microsoft").varint(2, 1))
                .message(14, new ProtoWriter().string(1, "author").string(2, "tests"));
        try (OnnxModel model = OnnxModel.open(write(dir.resolve("nodes.onnx"), m))) {
            Graph graph = model.graph();
            assertEquals(Map.of("", 17L, "com.microsoft", 1L), model.opsetImports());
            assertEquals("tests", model.metadata().get("author"));
            assertEquals(3, graph.nodes().size());
            Node c = graph.nodes().get(0);
            assertArrayEquals(new long[] {4, 5}, c.attrTensor("value").toLongArray());
            Node custom = graph.nodes().get(2);
            assertEquals("com.example", custom.domain());
            assertEquals(List.of("y", "", "y"), custom.inputs());
            assertEquals(0.125f, custom.attrFloat("alpha", 0));
            assertEquals(-1, custom.attrInt("axis", 0));
            assertEquals(7, custom.attrInt("missing", 7));
            assertEquals("linear", custom.attrString("mode", ""));
            assertArrayEquals(new float[] {1f, 2f}, custom.attrFloats("scales"));
            assertArrayEquals(new long[] {0, 2, 1}, custom.attrInts("perm"));
            assertNull(custom.attrInts("nope"));
            assertNull(custom.attrTensor("nope"));
            assertEquals(List.of("a", "b"), custom.attributes().get("names").strings());
            assertEquals(Attribute.Type.INT, custom.attributes().get("untyped").type());
            assertEquals(42, custom.attrInt("untyped", 0));
            var e = assertThrows(CortadoException.class, () -> custom.attrInt("alpha", 0));
            assertTrue(e.getMessage().contains("'alpha' is FLOAT, expected INT"), e.getMessage());

            assertSame(c, graph.producer("shape"));
            assertSame(graph.nodes().get(1), graph.producer("y"));
            assertNull(graph.producer("x"));
            assertEquals(List.of(custom), graph.consumers("y"));
            assertEquals(List.of(graph.nodes().get(1)), graph.consumers("x"));
            assertEquals(List.of(), graph.consumers(""));

            ValueInfo x = graph.inputs().get(0);
            assertEquals("x", x.name());
            assertEquals(DType.F32, x.elemType());
            assertEquals(List.of("batch", 20L, "?"), x.dims());
            assertEquals(-1, x.dimValue(0));
            assertEquals(20, x.dimValue(1));
            assertTrue(x.rankKnown());
            ValueInfo z = graph.outputs().get(0);
            assertNull(z.elemType());
            assertEquals(STRING, z.onnxElemType());
            assertEquals(List.of(), z.dims());
            ValueInfo noshape = graph.outputs().get(1);
            assertEquals(DType.I64, noshape.elemType());
            assertFalse(noshape.rankKnown());
            assertEquals(List.of("z", "noshape"), graph.outputNames());
        }
    }

    @Test
    void parsesIfSubgraphsLikeOptimumMergedDecoders() throws Exception {
        ProtoWriter thenBranch = new ProtoWriter().string(2, "then")
                .message(1, node("Identity", "t_id", new String[] {"w"}, new String[] {"out_then"}))
                .message(5, rawFloats("w", new long[] {2}, 1f, 2f))
                .message(12, valueInfo("out_then", FLOAT, 2L));
        ProtoWriter elseBranch = new ProtoWriter().string(2, "else")
                .message(1, node("Identity", "e_id", new String[] {"x"}, new String[] {"out_else"}))
                .message(12, valueInfo("out_else", FLOAT, 2L));
        ProtoWriter g = new ProtoWriter().string(2, "merged")
                .message(1, node("If", "optimum::if", new String[] {"use_cache_branch"}, new String[] {"y"},
                        attr("then_branch", 5).message(6, thenBranch),
                        attr("else_branch", 5).message(6, elseBranch)))
                .message(11, valueInfo("use_cache_branch", BOOL, 1L));
        try (OnnxModel m = OnnxModel.open(write(dir.resolve("if.onnx"), model(g)))) {
            Node ifNode = m.graph().nodes().getFirst();
            Graph then = ifNode.attrGraph("then_branch");
            assertEquals("then", then.name());
            assertArrayEquals(new float[] {1f, 2f}, then.initializers().get("w").toFloatArray());
            assertEquals("out_then", then.outputs().getFirst().name());
            assertEquals("else", ifNode.attributes().get("else_branch").g().name());
            assertEquals("Identity", ifNode.attrGraph("else_branch").producer("out_else").opType());
        }
    }

    @Test
    void rejectsSubgraphsNestedTooDeeplyWithoutStackOverflow() throws Exception {
        ProtoWriter g = new ProtoWriter().string(2, "leaf");
        for (int i = 0; i < 40; i++) {
            g = new ProtoWriter().message(1, node("If", "if" + i, new String[] {"c"}, new String[] {"y"},
                    attr("then_branch", 5).message(6, g)));
        }
        Path file = write(dir.resolve("deep.onnx"), model(g));
        var e = assertThrows(CortadoException.class, () -> OnnxModel.open(file));
        assertTrue(e.getMessage().contains("nested deeper than 32"), e.getMessage());
    }

    @Test
    void unsupportedConstantTypeDoesNotStopTheModelButUnsupportedInitializerDoes() throws Exception {
        ProtoWriter str = tensor("names", STRING, 1).string(6, "hello");
        ProtoWriter g = new ProtoWriter().message(1, node("Constant", "c", NONE, new String[] {"s"},
                attr("value", 4).message(5, str)));
        try (OnnxModel m = OnnxModel.open(write(dir.resolve("const.onnx"), model(g)))) {
            var e = assertThrows(CortadoException.class, () -> m.graph().nodes().getFirst().attrTensor("value"));
            assertTrue(e.getMessage().contains("tensor 'names' has data type 8 (string)"), e.getMessage());
        }
        Path bad = write(dir.resolve("init.onnx"), model(new ProtoWriter().message(5, str)));
        var e = assertThrows(CortadoException.class, () -> OnnxModel.open(bad));
        assertTrue(e.getMessage().contains("init.onnx") && e.getMessage().contains("'names' has data type 8 (string)"),
                e.getMessage());
    }

    @Test
    void rejectsInconsistentTensors() throws Exception {
        expectError("short_raw.onnx", new ProtoWriter().message(5, rawFloats("w", new long[] {3}, 1f, 2f)),
                "tensor 'w' raw_data has 8 bytes but dims [3] of F32 need 12");
        expectError("count.onnx", new ProtoWriter().message(5, tensor("w", FLOAT, 3).packedFloats(4, 1f)),
                "tensor 'w' of F32 has 3 elements but 1 values in float_data");
        expectError("nodata.onnx", new ProtoWriter().message(5, tensor("w", INT64, 2)),
                "tensor 'w' of I64 has 2 elements but no raw_data or int64_data");
        expectError("negdim.onnx", new ProtoWriter().message(5, tensor("w", FLOAT, -2, 3)),
                "tensor 'w' has negative dimension -2");
        expectError("overflow.onnx", new ProtoWriter().message(5, tensor("w", FLOAT, 1L << 40, 1L << 40)),
                "overflow");
        expectError("dup.onnx", new ProtoWriter().message(5, rawFloats("w", new long[] {1}, 1f))
                .message(5, rawFloats("w", new long[] {1}, 2f)), "two initializers named 'w'");
        expectError("wiretype.onnx", new ProtoWriter().varint(5, 3), "GraphProto field 5 has wire type 0 (varint)");
    }

    @Test
    void rejectsModelWithoutGraph() throws Exception {
        Path file = write(dir.resolve("nograph.onnx"), new ProtoWriter().varint(1, 8).string(2, "x"));
        var e = assertThrows(CortadoException.class, () -> OnnxModel.open(file));
        assertTrue(e.getMessage().contains("no graph"), e.getMessage());
    }

    private void expectError(String fileName, ProtoWriter graph, String expected) throws Exception {
        Path file = write(dir.resolve(fileName), model(graph));
        var e = assertThrows(CortadoException.class, () -> OnnxModel.open(file));
        assertTrue(e.getMessage().contains(fileName), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
