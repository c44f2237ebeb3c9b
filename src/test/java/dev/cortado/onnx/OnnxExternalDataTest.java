package dev.cortado.onnx;

import static dev.cortado.onnx.Fixtures.external;
import static dev.cortado.onnx.Fixtures.model;
import static dev.cortado.onnx.Fixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import dev.cortado.tensor.Tensor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** External data (data_location = EXTERNAL): sibling files, shared mappings, path confinement, bounds. */
class OnnxExternalDataTest {
    @TempDir
    Path root;

    private Path modelDir() throws IOException {
        return Files.createDirectories(root.resolve("model"));
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    @Test
    void readsTensorsFromASiblingFileThroughOneSharedMapping() throws Exception {
        Path dir = modelDir();
        // 16 bytes of padding, then a [2,3] tensor, then a [2] tensor
        ByteBuffer data = ByteBuffer.allocate(16 + 24 + 8).order(ByteOrder.LITTLE_ENDIAN);
        data.position(16);
        for (float f : new float[] {1, 2, 3, 4, 5, 6.5f, -1, 0.25f}) data.putFloat(f);
        Files.write(dir.resolve("model.onnx_data"), data.array());
        Files.createDirectories(dir.resolve("sub"));
        Files.write(dir.resolve("sub/more.bin"), floats(42f));
        ProtoWriter g = new ProtoWriter()
                .message(5, external("a", new long[] {2, 3}, "model.onnx_data", 16, 24))
                .message(5, external("b", new long[] {2}, "model.onnx_data", 40, -1))
                .message(5, external("c", new long[] {1}, "sub/more.bin", -1, 4))
                .message(5, external("d", new long[] {1}, "sub/../sub/more.bin", 0, 4));
        try (OnnxModel m = OnnxModel.open(write(dir.resolve("model.onnx"), model(g)))) {
            Tensor a = m.graph().initializers().get("a");
            Tensor b = m.graph().initializers().get("b");
            assertArrayEquals(new long[] {2, 3}, a.shape());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6.5f}, a.toFloatArray());
            assertArrayEquals(new float[] {-1, 0.25f}, b.toFloatArray());
            assertTrue(a.data().isNative(), "external data should be a mapping, not a copy");
            assertEquals(24, b.data().address() - a.data().address(), "both tensors should share one mapping");
            assertEquals(42f, m.graph().initializers().get("c").getFloat(0));
            assertEquals(42f, m.graph().initializers().get("d").getFloat(0));
        }
    }

    @Test
    void rejectsPathsThatEscapeTheModelFolder() throws Exception {
        Path dir = modelDir();
        Files.write(root.resolve("escape.bin"), floats(1f)); // exists, so only confinement can reject it
        Files.createDirectories(dir.resolve("sub"));
        for (String location : new String[] {"../escape.bin", "sub/../../escape.bin", root.resolve("escape.bin").toString(),
            "/etc/passwd", ".", "C:\\weights.bin"}) {
            ProtoWriter g = new ProtoWriter().message(5, external("w", new long[] {1}, location, 0, 4));
            Path file = write(dir.resolve("model.onnx"), model(g));
            var e = assertThrows(CortadoException.class, () -> OnnxModel.open(file), location);
            assertTrue(e.getMessage().contains("'" + location + "'"), e.getMessage());
            assertTrue(e.getMessage().contains("escapes the model folder") || e.getMessage().contains("is absolute"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("model.onnx") && e.getMessage().contains("tensor 'w'"), e.getMessage());
        }
    }

    @Test
    void rejectsSymbolicLinksLeadingOutside() throws Exception {
        Path dir = modelDir();
        Files.write(root.resolve("outside.bin"), floats(1f));
        Files.createSymbolicLink(dir.resolve("link.bin"), root.resolve("outside.bin"));
        Path file = write(dir.resolve("model.onnx"),
                model(new ProtoWriter().message(5, external("w", new long[] {1}, "link.bin", 0, 4))));
        var e = assertThrows(CortadoException.class, () -> OnnxModel.open(file));
        assertTrue(e.getMessage().contains("'link.bin' leads outside the model folder"), e.getMessage());
    }

    @Test
    void reportsMissingAndShortExternalFiles() throws Exception {
        Path dir = modelDir();
        Files.write(dir.resolve("w.bin"), floats(1f, 2f));
        expect(dir, external("w", new long[] {1}, "nope.bin", 0, 4), "external data file 'nope.bin' not found");
        expect(dir, external("w", new long[] {4}, "w.bin", 0, 16), "runs past end of 'w.bin' (8 bytes)");
        expect(dir, external("w", new long[] {2}, "w.bin", 4, -1), "runs past end of 'w.bin'");
        expect(dir, external("w", new long[] {1}, "w.bin", 100, 4), "offset 100 lies outside external file 'w.bin'");
        expect(dir, external("w", new long[] {2}, "w.bin", 0, 4), "length 4 does not match the 8 bytes");
        expect(dir, Fixtures.tensor("w", Fixtures.FLOAT, 1).varint(14, 1), "has no 'location'");
        expect(dir, Fixtures.tensor("w", Fixtures.FLOAT, 1).varint(14, 1)
                .message(13, new ProtoWriter().string(1, "location").string(2, "w.bin"))
                .message(13, new ProtoWriter().string(1, "offset").string(2, "-4")), "offset '-4' is not a non-negative");
    }

    private static void expect(Path dir, ProtoWriter tensor, String message) throws IOException {
        Path file = write(dir.resolve("model.onnx"), model(new ProtoWriter().message(5, tensor)));
        var e = assertThrows(CortadoException.class, () -> OnnxModel.open(file));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertTrue(e.getMessage().contains("model.onnx"), e.getMessage());
    }

    /**
     * A sparse model file larger than 4 GiB: a 4.5 GiB raw_data tensor followed by more graph fields, so the parser
     * must handle lengths and offsets beyond 32 bits. Only a few pages are ever written or read.
     */
    @Test
    void handlesModelFilesLargerThan4GiB() throws Exception {
        long count = (9L << 30) / 8; // 4.5 GiB of float32
        long rawLen = count * 4;
        ProtoWriter head = Fixtures.tensor("big", Fixtures.FLOAT, count).tag(9, 2).raw(ProtoWriter.varintBytes(rawLen));
        long tensorLen = head.size() + rawLen;
        byte[] tail = new ProtoWriter().message(11, Fixtures.valueInfo("after_the_big_tensor", Fixtures.FLOAT, 1L))
                .string(2, "big_graph").toByteArray();
        long graphLen = 1 + ProtoWriter.varintBytes(tensorLen).length + tensorLen + tail.length;
        byte[] prefix = new ProtoWriter().varint(1, 8).tag(7, 2).raw(ProtoWriter.varintBytes(graphLen))
                .tag(5, 2).raw(ProtoWriter.varintBytes(tensorLen)).raw(head.toByteArray()).toByteArray();
        byte[] opset = new ProtoWriter().message(8, new ProtoWriter().string(1, "").varint(2, 17)).toByteArray();
        Path file = root.resolve("big.onnx");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.write(prefix);
            f.seek(prefix.length + rawLen - 4);
            f.write(floats(7.5f));
            f.write(tail);
            f.write(opset);
        }
        assertTrue(Files.size(file) > (4L << 30));
        try (OnnxModel m = OnnxModel.open(file)) {
            Tensor big = m.graph().initializers().get("big");
            assertEquals(count, big.numel());
            assertEquals(7.5f, big.getFloat(count - 1));
            assertEquals(0f, big.getFloat(count / 2));
            assertEquals("after_the_big_tensor", m.graph().inputs().getFirst().name());
            assertEquals("big_graph", m.graph().name());
            assertEquals(17L, m.opsetImports().get(""));
        } finally {
            Files.delete(file);
        }
    }
}
