package dev.cortado.gguf;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.registry.GgufModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Corrupt or unsupported GGUF files: one clear CortadoException line each, never another exception or a crash. */
class GgufBadInputTest {
    static final Path SRC = Path.of("models/fixtures/gguf/stories260K-q8_0.gguf");
    static byte[] all;
    @TempDir Path tmp;

    @BeforeAll
    static void read() throws Exception {
        all = Files.readAllBytes(SRC);
    }

    void fails(byte[] file, String mustContain) throws Exception {
        Path p = tmp.resolve("bad-" + System.nanoTime() + ".gguf");
        Files.write(p, file);
        CortadoException e = assertThrows(CortadoException.class, () -> GgufModels.open(p, new CpuBackend()).close());
        assertTrue(e.getMessage().contains(mustContain), "should mention '" + mustContain + "': " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    static byte[] rewrite(Consumer<Map<String, Object>> meta, Consumer<List<GgufTestWriter.T>> tensors) {
        try (GgufFile f = GgufFile.open(SRC)) {
            return GgufTestWriter.rewrite(f, meta, tensors);
        }
    }

    @Test
    void rewrittenFixtureStillLoads() throws Exception {
        Path p = tmp.resolve("same.gguf");
        Files.write(p, rewrite(m -> {}, t -> {}));
        GgufModels.open(p, new CpuBackend()).close();
    }

    @Test
    void badMagicAndVersion() throws Exception {
        byte[] b = all.clone();
        b[0] = 'X';
        fails(b, "not a GGUF file");
        b = all.clone();
        b[4] = 1;
        fails(b, "GGUF version 1 is not supported");
        fails(new byte[] {'G', 'G'}, "not a GGUF file");
    }

    @Test
    void truncated() throws Exception {
        fails(java.util.Arrays.copyOf(all, 200), "truncated or corrupt GGUF header");
        fails(java.util.Arrays.copyOf(all, 3000), "truncated");
        fails(java.util.Arrays.copyOf(all, all.length - 1000), "run past the end of the file");
    }

    @Test
    void misalignedOffsetAndDataPastTheEnd() throws Exception {
        fails(rewrite(m -> {}, t -> t.set(1, with(t.get(1), t.get(1).type(), t.get(1).ne(), t.get(1).data(), 8L))), "is not a multiple of the alignment 32");
        fails(rewrite(m -> {}, t -> t.set(1, with(t.get(1), t.get(1).type(), t.get(1).ne(), t.get(1).data(), 1L << 30))), "run past the end of the file");
        fails(rewrite(m -> m.put("general.alignment", 48L), t -> {}), "general.alignment");
    }

    @Test
    void unknownAndUnsupportedTypes() throws Exception {
        fails(rewrite(m -> {}, t -> t.set(2, with(t.get(2), 99, t.get(2).ne(), t.get(2).data(), null))), "unknown ggml tensor type 99");
        int q = indexOf(rewriteList(), "blk.0.attn_q.weight");
        // Q5_0: 22 bytes per block of 32 (a type llama.cpp writes, Cortado does not read)
        fails(rewrite(m -> {}, t -> t.set(q, with(t.get(q), 6, t.get(q).ne(), new byte[64 * 64 / 32 * 22], null))), "type Q5_0, which Cortado does not read");
        fails(rewrite(m -> {}, t -> t.set(q, with(t.get(q), 8, new long[] {48, 64}, new byte[48 * 64 / 32 * 34], null))), "not a whole number of Q8_0 blocks");
    }

    @Test
    void unknownArchitectureAndWrongSizes() throws Exception {
        fails(rewrite(m -> m.put("general.architecture", "bert"), t -> {}), "architecture 'bert' has no Cortado family");
        fails(rewrite(m -> m.put("llama.embedding_length", 32L), t -> {}), "expected [*, 32]");
        int q = indexOf(rewriteList(), "blk.0.attn_q.weight");
        fails(rewrite(m -> {}, t -> t.set(q, with(t.get(q), 8, new long[] {64, 32}, new byte[64 * 32 / 32 * 34], null))), "q_proj.weight' has shape [32, 64], expected [64, 64]");
        fails(rewrite(m -> m.remove("llama.block_count"), t -> {}), "llama.block_count");
        fails(rewrite(m -> m.put("llama.attention.head_count", "eight"), t -> {}), "expected an integer");
    }

    /** rope.scaling.type linear becomes HF rope_scaling; yarn and the like are refused by name. */
    @Test
    void ropeScalingFromMetadata() throws Exception {
        Path p = tmp.resolve("linear.gguf");
        Files.write(p, rewrite(m -> {
            m.put("llama.rope.scaling.type", "linear");
            m.put("llama.rope.scaling.factor", 2.0f);
        }, t -> {}));
        try (GgufModel g = GgufModel.load(GgufFile.open(p))) {
            assertTrue(g.config().get("rope_scaling").toString().equals("{\"rope_type\":\"linear\",\"factor\":2.0}"), g.config().toString());
        }
        fails(rewrite(m -> m.put("llama.rope.scaling.type", "yarn"), t -> {}), "rope.scaling.type is 'yarn'");
    }

    @Test
    void randomByteFlipsGiveAnErrorLineOrALoadedModel() throws Exception {
        Random r = new Random(17);
        for (int trial = 0; trial < 60; trial++) {
            byte[] b = all.clone();
            for (int k = 0; k < 3; k++) b[r.nextInt(8192)] = (byte) r.nextInt(256);
            Path p = tmp.resolve("flip" + trial + ".gguf");
            Files.write(p, b);
            try {
                GgufModels.open(p, new CpuBackend()).close();
            } catch (CortadoException e) {
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
            }
        }
    }

    static List<GgufTestWriter.T> rewriteList() {
        List<GgufTestWriter.T>[] out = new List[1];
        rewrite(m -> {}, t -> out[0] = List.copyOf(t));
        return out[0];
    }

    static int indexOf(List<GgufTestWriter.T> ts, String name) {
        for (int i = 0; i < ts.size(); i++) if (ts.get(i).name().equals(name)) return i;
        throw new AssertionError(name);
    }

    static GgufTestWriter.T with(GgufTestWriter.T t, int type, long[] ne, byte[] data, Long offset) {
        return new GgufTestWriter.T(t.name(), type, ne, data, offset);
    }
}
