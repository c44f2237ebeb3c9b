package dev.cortado.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import dev.cortado.testing.Shared;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    static final String STORIES = "models/stories260K/model.safetensors";

    @TempDir
    Path dir;

    @Test
    void storiesHas47TensorsAnd260032Parameters() {
        try (Safetensors st = Safetensors.open(Shared.require(STORIES))) {
            assertEquals(47, st.tensors().size());
            assertEquals(260_032, st.tensors().values().stream().mapToLong(Tensor::numel).sum());
            assertEquals(Map.of("format", "pt"), st.metadata());
            Tensor emb = st.tensor("model.embed_tokens.weight");
            assertEquals(DType.F32, emb.dtype());
            assertArrayEquals(new long[] {512, 64}, emb.shape());
            assertArrayEquals(new long[] {172, 64}, st.tensor("model.layers.4.mlp.gate_proj.weight").shape());
            assertArrayEquals(new long[] {32, 64}, st.tensor("model.layers.0.self_attn.k_proj.weight").shape());
            assertTrue(emb.data().isNative(), "zero-copy over the mapping");
            for (Tensor t : st.tensors().values()) assertEquals(DType.F32, t.dtype());
        }
    }

    /**
     * Values equal Karpathy's original llama2.c checkpoint (legacy format: 7 int32 header fields, then float32
     * token_embedding_table, rms_att_weight, wq, wk, wv, wo, rms_ffn_weight, w1, w2, w3, rms_final_weight).
     * wv, wo, w1 (gate), w2 (down), w3 (up) are stored unpermuted in both, [out, in].
     */
    @Test
    void valuesEqualTheOriginalLlama2cCheckpoint() throws Exception {
        ByteBuffer bin = ByteBuffer.wrap(Files.readAllBytes(Shared.require("models/stories260K/llama2c/stories260K.bin")))
                .order(ByteOrder.LITTLE_ENDIAN);
        int dim = bin.getInt(0), hidden = bin.getInt(4), layers = bin.getInt(8), heads = bin.getInt(12),
                kvHeads = bin.getInt(16), vocab = bin.getInt(20);
        assertEquals(List.of(64, 172, 5, 8, 4, 512), List.of(dim, hidden, layers, heads, kvHeads, vocab));
        int kvDim = dim * kvHeads / heads;
        long off = 28; // bytes
        long emb = off, rmsAtt = emb + 4L * vocab * dim, wq = rmsAtt + 4L * layers * dim;
        long wk = wq + 4L * layers * dim * dim, wv = wk + 4L * layers * kvDim * dim, wo = wv + 4L * layers * kvDim * dim;
        long rmsFfn = wo + 4L * layers * dim * dim, w1 = rmsFfn + 4L * layers * dim, w2 = w1 + 4L * layers * hidden * dim;
        long w3 = w2 + 4L * layers * dim * hidden, rmsFinal = w3 + 4L * layers * hidden * dim;
        try (Safetensors st = Safetensors.openFolder(Shared.require(STORIES).getParent())) {
            assertSame(bin, emb, st.tensor("model.embed_tokens.weight"));
            assertSame(bin, rmsFinal, st.tensor("model.norm.weight"));
            for (int l = 0; l < layers; l++) {
                String p = "model.layers." + l + ".";
                assertSame(bin, rmsAtt + 4L * l * dim, st.tensor(p + "input_layernorm.weight"));
                assertSame(bin, rmsFfn + 4L * l * dim, st.tensor(p + "post_attention_layernorm.weight"));
                assertSame(bin, wv + 4L * l * kvDim * dim, st.tensor(p + "self_attn.v_proj.weight"));
                assertSame(bin, wo + 4L * l * dim * dim, st.tensor(p + "self_attn.o_proj.weight"));
                assertSame(bin, w1 + 4L * l * hidden * dim, st.tensor(p + "mlp.gate_proj.weight"));
                assertSame(bin, w2 + 4L * l * dim * hidden, st.tensor(p + "mlp.down_proj.weight"));
                assertSame(bin, w3 + 4L * l * hidden * dim, st.tensor(p + "mlp.up_proj.weight"));
            }
        }
    }

    private static void assertSame(ByteBuffer bin, long offset, Tensor t) {
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            if (Float.floatToRawIntBits(v[i]) != Float.floatToRawIntBits(bin.getFloat((int) offset + 4 * i))) {
                throw new AssertionError(t + " differs from llama2.c at element " + i);
            }
        }
    }

    @Test
    void truncatedCopyIsRejected() throws Exception {
        byte[] full = Files.readAllBytes(Shared.require(STORIES));
        Path cut = Files.write(dir.resolve("cut.safetensors"), Arrays.copyOf(full, full.length / 2));
        var e = assertThrows(CortadoException.class, () -> Safetensors.open(cut));
        assertTrue(e.getMessage().startsWith("corrupt safetensors file " + cut + ": tensor '"), e.getMessage());
        assertTrue(e.getMessage().contains("run past end of file"), e.getMessage());

        Path header = Files.write(dir.resolve("header.safetensors"), Arrays.copyOf(full, 100));
        e = assertThrows(CortadoException.class, () -> Safetensors.open(header));
        assertTrue(e.getMessage().contains("header length") && e.getMessage().contains("runs past end of file"),
                e.getMessage());
    }

    @Test
    void offsetPastTheEndIsRejected() throws Exception {
        Path file = file("past.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[100],\"data_offsets\":[0,400]}}", new byte[16]);
        var e = assertThrows(CortadoException.class, () -> Safetensors.open(file));
        assertEquals("corrupt safetensors file " + file + ": tensor 'w' data_offsets [0, 400] run past end of file"
                + " (data holds 16 bytes from offset 72)", e.getMessage());
    }

    @Test
    void malformedHeadersAreRejected() throws Exception {
        expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "span 8 bytes but shape [3] of F32 needs 12");
        expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", "are reversed");
        expect("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", "unsupported safetensors dtype F8_E4M3");
        expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,0]}}", "expected a non-negative integer");
        expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "data_offsets is missing");
        expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", "data_offsets is missing");
        expect("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "has no dtype");
        expect("{\"w\":1,", "header is not valid JSON");
        expect("[1,2]", "header is not a JSON object");
        expect("{\"w\":{},\"w\":{}}", "header is not valid JSON");
        expect("{\"__metadata__\":[1]}", "__metadata__ is not a JSON object");

        Path tiny = Files.write(dir.resolve("tiny.safetensors"), new byte[] {1, 2, 3});
        var e = assertThrows(CortadoException.class, () -> Safetensors.open(tiny));
        assertTrue(e.getMessage().contains("too small"), e.getMessage());
        byte[] huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).array();
        Path hugeLen = Files.write(dir.resolve("huge.safetensors"), huge);
        e = assertThrows(CortadoException.class, () -> Safetensors.open(hugeLen));
        assertTrue(e.getMessage().contains("header length 18446744073709551611 runs past end"), e.getMessage());
        Path absent = dir.resolve("absent.safetensors");
        e = assertThrows(CortadoException.class, () -> Safetensors.open(absent));
        assertEquals("safetensors file not found: " + absent, e.getMessage());
    }

    @Test
    void readsAllDtypesAndMetadata() throws Exception {
        ByteBuffer data = ByteBuffer.allocate(8 + 2 + 2 + 1 + 8).order(ByteOrder.LITTLE_ENDIAN);
        data.putLong(-3).putShort(Float.floatToFloat16(1.5f)).putShort((short) 0x3FC0).put((byte) -7).putDouble(0.5);
        Path file = file("types.safetensors", "{\"__metadata__\":{\"format\":\"pt\",\"n\":3},"
                + "\"a\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[8,10]},"
                + "\"c\":{\"dtype\":\"BF16\",\"shape\":[1,1],\"data_offsets\":[10,12]},"
                + "\"d\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[12,13]},"
                + "\"e\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[13,21]},"
                + "\"z\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[21,21]}}", data.array());
        try (Safetensors st = Safetensors.open(file)) {
            assertEquals(List.of("a", "b", "c", "d", "e", "z"), List.copyOf(st.tensors().keySet()));
            assertEquals(Map.of("format", "pt", "n", "3"), st.metadata());
            assertEquals(-3, st.tensor("a").getLong(0));
            assertEquals(0, st.tensor("a").rank());
            assertEquals(1.5f, st.tensor("b").getFloat(0));
            assertEquals(1.5f, st.tensor("c").getFloat(0));
            assertEquals(-7, st.tensor("d").getLong(0));
            assertEquals(0.5f, st.tensor("e").getFloat(0));
            assertEquals(0, st.tensor("z").numel());
            var e = assertThrows(CortadoException.class, () -> st.tensor("nope"));
            assertTrue(e.getMessage().contains("tensor 'nope' not found"), e.getMessage());
        }
    }

    @Test
    void openFolderReadsShardsThroughTheIndex() throws Exception {
        Path model = Files.createDirectories(dir.resolve("sharded"));
        file(model.resolve("model-00001-of-00002.safetensors"),
                "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                floats(1f, 2f));
        file(model.resolve("model-00002-of-00002.safetensors"),
                "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(3f));
        Files.writeString(model.resolve(Safetensors.INDEX), "{\"metadata\":{\"total_size\":12},\"weight_map\":{"
                + "\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}}");
        try (Safetensors st = Safetensors.openFolder(model)) {
            assertEquals(List.of("a", "b"), List.copyOf(st.tensors().keySet()));
            assertArrayEquals(new float[] {1f, 2f}, st.tensor("a").toFloatArray());
            assertArrayEquals(new float[] {3f}, st.tensor("b").toFloatArray());
            assertEquals(Map.of("format", "pt", "total_size", "12"), st.metadata());
            assertEquals(2, st.files().size());
        }

        Files.writeString(model.resolve(Safetensors.INDEX),
                "{\"weight_map\":{\"a\":\"model-00002-of-00002.safetensors\"}}");
        var e = assertThrows(CortadoException.class, () -> Safetensors.openFolder(model));
        assertTrue(e.getMessage().contains("puts tensor 'a' in model-00002-of-00002.safetensors, which lacks it"),
                e.getMessage());

        file(dir.resolve("outside.safetensors"), "{}", new byte[0]);
        Files.writeString(model.resolve(Safetensors.INDEX), "{\"weight_map\":{\"a\":\"../outside.safetensors\"}}");
        e = assertThrows(CortadoException.class, () -> Safetensors.openFolder(model));
        assertTrue(e.getMessage().contains("names shard '../outside.safetensors' outside the model folder"), e.getMessage());

        Path empty = Files.createDirectories(dir.resolve("empty"));
        e = assertThrows(CortadoException.class, () -> Safetensors.openFolder(empty));
        assertTrue(e.getMessage().startsWith("no model.safetensors or model.safetensors.index.json in "), e.getMessage());
    }

    private void expect(String header, String message) throws Exception {
        Path file = file("bad.safetensors", header, new byte[16]);
        var e = assertThrows(CortadoException.class, () -> Safetensors.open(file), header);
        assertTrue(e.getMessage().startsWith("corrupt safetensors file " + file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(message), header + " -> " + e.getMessage());
    }

    private Path file(String name, String header, byte[] data) throws Exception {
        return file(dir.resolve(name), header, data);
    }

    /** Writes the safetensors layout by hand: u64 LE header length, JSON padded with spaces to 8 bytes, data. */
    private static Path file(Path path, String header, byte[] data) throws Exception {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
        out.writeBytes(json);
        for (int i = json.length; i < padded; i++) out.write(' ');
        out.writeBytes(data);
        return Files.write(path, out.toByteArray());
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }
}
