package dev.cortado.model;

import dev.cortado.registry.Families;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import dev.cortado.testing.Fixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #18, safetensors: weights are checked against what the family's weight map expects (dtype, rank, shape) and
 * the file's byte ranges against each other and the file. Each case edits tiny-llama's real model.safetensors.
 */
class WeightValidationTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path LLAMA = Fixtures.ROOT.resolve("tiny-llama");
    static final String Q = "model.layers.0.self_attn.q_proj.weight";

    @TempDir
    Path dir;

    /** tiny-llama's files in {@code dir}, the safetensors header edited by {@code edit} (data unchanged). */
    Path copy(Consumer<ObjectNode> edit) throws Exception {
        Files.copy(LLAMA.resolve("config.json"), dir.resolve("config.json"));
        byte[] st = Files.readAllBytes(LLAMA.resolve("model.safetensors"));
        int len = (int) ByteBuffer.wrap(st, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode header = (ObjectNode) JSON.readTree(new String(st, 8, len, StandardCharsets.UTF_8));
        edit.accept(header);
        Files.write(dir.resolve("model.safetensors"), rebuild(header, Arrays.copyOfRange(st, 8 + len, st.length)));
        return dir;
    }

    static byte[] rebuild(ObjectNode header, byte[] data) throws Exception {
        byte[] json = JSON.writeValueAsBytes(header);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(json.length).put(json).put(data).array();
    }

    String error(Path folder) {
        CortadoException e = assertThrows(CortadoException.class,
                () -> Families.openDecoder(folder, new CpuBackend(), Families.Engine.CORTADO).close());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    String st() {
        return dir.resolve("model.safetensors").toString();
    }

    @Test
    void linearWeightRelabelledI32IsRejected() throws Exception {
        Path d = copy(h -> ((ObjectNode) h.get(Q)).put("dtype", "I32"));
        assertEquals(st() + ": tensor '" + Q + "' has dtype I32 [64, 64], expected a float weight (F32, F16, BF16 or F64)", error(d));
    }

    @Test
    void oneDimensionalLinearWeightNamesExpectedAndActualShape() throws Exception {
        Path d = copy(h -> ((ObjectNode) h.get(Q)).set("shape", JSON.createArrayNode().add(4096)));
        assertEquals(st() + ": tensor '" + Q + "' has shape [4096], expected [64, 64]", error(d));
    }

    @Test
    void transposedKvProjectionIsRejected() throws Exception {
        String k = "model.layers.1.self_attn.k_proj.weight";
        Path d = copy(h -> ((ObjectNode) h.get(k)).set("shape", JSON.createArrayNode().add(64).add(32)));
        assertEquals(st() + ": tensor '" + k + "' has shape [64, 32], expected [32, 64]", error(d));
    }

    @Test
    void normOfTheWrongLengthIsRejected() throws Exception {
        String n = "model.norm.weight";
        Path d = copy(h -> {
            ((ObjectNode) h.get(n)).set("shape", JSON.createArrayNode().add(32).add(2));
        });
        assertEquals(st() + ": tensor '" + n + "' has shape [32, 2], expected [64]", error(d));
    }

    @Test
    void overlappingDataOffsetsAreRejected() throws Exception {
        String a = "model.layers.0.self_attn.k_proj.weight";
        // k_proj claims q_proj's bytes ([64, 64] F32): two tensors over one range
        Path d = copy(h -> h.set(a, h.get(Q).deepCopy()));
        String msg = error(d);
        assertTrue(msg.startsWith("corrupt safetensors file " + st() + ": tensors '"), msg);
        assertTrue(msg.endsWith("overlap"), msg);
    }

    @Test
    void gapsAndTrailingBytesAreRejected() throws Exception {
        Path d = copy(h -> { });
        byte[] st = Files.readAllBytes(d.resolve("model.safetensors"));
        Files.write(d.resolve("model.safetensors"), Arrays.copyOf(st, st.length + 4));
        String msg = error(d);
        assertTrue(msg.contains(": the tensors cover ") && msg.contains("bytes but the data section after the header holds "), msg);
    }

    @Test
    void byteRangeChecksNameTheTensor() throws Exception {
        String n = "model.norm.weight";
        Map<String, String> cases = Map.of(
                "[300000000, 300000256]", "tensor '" + n + "' data_offsets [300000000, 300000256] run past end of file",
                "[256, 0]", "tensor '" + n + "' data_offsets [256, 0] are reversed",
                "[0, 128]", "tensor '" + n + "' data_offsets [0, 128] span 128 bytes but shape [64] of F32 needs 256",
                "[-1, 255]", "tensor '" + n + "' data_offsets holds -1, expected a non-negative integer");
        for (var c : cases.entrySet()) {
            Path d = copy(h -> {
                try {
                    ((ObjectNode) h.get(n)).set("data_offsets", JSON.readTree(c.getKey()));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            String msg = error(d);
            assertTrue(msg.startsWith("corrupt safetensors file " + st() + ": " + c.getValue()), msg);
            Files.delete(d.resolve("config.json"));
        }
    }

    @Test
    void headerLengthAndHeaderJsonAreChecked() throws Exception {
        Files.copy(LLAMA.resolve("config.json"), dir.resolve("config.json"));
        byte[] st = Files.readAllBytes(LLAMA.resolve("model.safetensors"));
        Path f = dir.resolve("model.safetensors");
        ByteBuffer.wrap(st).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -5);
        Files.write(f, st);
        assertTrue(error(dir).endsWith(": header length 18446744073709551611 runs past end of file (" + st.length + " bytes)"), error(dir));
        ByteBuffer.wrap(st).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Files.write(f, st);
        assertTrue(error(dir).contains(": header length 1099511627776 runs past end of file"), error(dir));
        ByteBuffer.wrap(st).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 4);
        Files.write(f, st);
        assertTrue(error(dir).contains(": header is not valid JSON: "), error(dir));
    }

    /**
     * BF16 where F32 was stored: runs (widened where the backend needs float32: norms, biases; kept 16-bit
     * elsewhere) and gives the logits of an F32 checkpoint holding the same bf16-rounded values.
     */
    @Test
    void bf16CheckpointEqualsF32OfTheSameValues() throws Exception {
        byte[] st = Files.readAllBytes(LLAMA.resolve("model.safetensors"));
        int len = (int) ByteBuffer.wrap(st, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode header = (ObjectNode) JSON.readTree(new String(st, 8, len, StandardCharsets.UTF_8));
        ByteBuffer src = ByteBuffer.wrap(st, 8 + len, st.length - 8 - len).slice().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer bf = ByteBuffer.allocate(src.capacity() / 2).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer rounded = ByteBuffer.allocate(src.capacity()).order(ByteOrder.LITTLE_ENDIAN);
        ObjectNode bfHeader = header.deepCopy();
        var names = new java.util.ArrayList<String>();
        header.fieldNames().forEachRemaining(names::add);
        names.removeIf(n -> n.equals("__metadata__"));
        names.sort(java.util.Comparator.comparingLong(n -> header.get(n).get("data_offsets").get(0).asLong()));
        for (String n : names) {
            ObjectNode t = (ObjectNode) bfHeader.get(n);
            long b = t.get("data_offsets").get(0).asLong(), e = t.get("data_offsets").get(1).asLong();
            int start = bf.position();
            for (long i = b; i < e; i += 4) {
                short h = (short) (Float.floatToRawIntBits(src.getFloat((int) i)) >>> 16);
                bf.putShort(h);
                rounded.putFloat(Float.intBitsToFloat((h & 0xffff) << 16));
            }
            t.put("dtype", "BF16");
            t.set("data_offsets", JSON.createArrayNode().add(start).add(bf.position()));
        }
        Path f32Dir = Files.createDirectories(dir.resolve("f32")), bfDir = Files.createDirectories(dir.resolve("bf16"));
        for (Path d : new Path[] {f32Dir, bfDir}) Files.copy(LLAMA.resolve("config.json"), d.resolve("config.json"));
        Files.write(f32Dir.resolve("model.safetensors"), rebuild(header, rounded.array()));
        Files.write(bfDir.resolve("model.safetensors"), rebuild(bfHeader, bf.array()));
        float[] f32 = logits(f32Dir), bf16 = logits(bfDir);
        assertEquals(128, bf16.length);
        double worst = 0;
        for (int i = 0; i < f32.length; i++) worst = Math.max(worst, Math.abs(f32[i] - bf16[i]));
        assertTrue(worst < 1e-4, "bf16 logits differ from f32 logits of the same values by " + worst);
        assertEquals(Fixtures.argmax(f32), Fixtures.argmax(bf16));
    }

    static float[] logits(Path folder) {
        try (LanguageModel m = Families.openDecoder(folder, new CpuBackend(), Families.Engine.CORTADO); DecoderSession s = m.newSession(1)) {
            return s.step(new int[][] {{1, 5, 9, 14}}, null)[0];
        }
    }
}
