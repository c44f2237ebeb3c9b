package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.Quantization;
import dev.cortado.gguf.GgmlType;
import dev.cortado.gguf.GgufFile;
import dev.cortado.gguf.GgufTestWriter;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import dev.cortado.tensor.DType;
import dev.cortado.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pack cache ({@link PackCache}) on files that are already quantized, loaded without {@code --quantize}: GGUF files
 * (Q4_0, Q8_0, Q4_1 + BF16 + F16; llama, gpt2, qwen2 layouts) and MatMulNBits ONNX folders (int4 with and without zero
 * points, block 32 and 128, GPT-2's split c_attn), each copied from models/fixtures to a temporary folder so that the
 * cache can be written. The first load packs and writes {@code .cortado-cache/}; the second takes every packed weight
 * from the file (for GGUF without converting its blocks) and gives bit-identical logits to a load without the cache;
 * a corrupted file prints one warning, is repacked with the same logits and rewritten. The logits themselves are pinned
 * against transformers (GgufModelTest) and ONNX Runtime (MatMulNBitsVsOrtTest, QuantizedFixturesTest).
 */
class QuantizedFilePackCacheTest {
    @TempDir
    Path tmp;


    @ParameterizedTest
    @ValueSource(strings = {"gguf/stories260K-q4_0.gguf", "gguf/stories260K-q8_0.gguf", "gguf/stories260K-mixed.gguf",
            "gguf/tiny-gpt2-q8_0.gguf", "gguf/tiny-qwen2-q8_0.gguf", "gguf/tiny-llama-scaled-q8_0.gguf",
            "quantized/tiny-llama-int4", "quantized/tiny-llama-int4-b128", "quantized/tiny-qwen2-int4-sym", "quantized/tiny-gpt2-int4"})
    void secondLoadMapsTheCacheAndCorruptionRepacks(String fixture) throws IOException {
        Path model = copy(fixture);
        Run fresh = run(model, Quantization.NONE, false);
        assertEquals(-1, fresh.hits, "cache off");

        Run first = run(model, Quantization.NONE, true);
        assertEquals(0, first.hits, "first load packs");
        assertArrayEquals(fresh.logits, first.logits);
        List<Path> files = cacheFiles(model);
        assertEquals(1, files.size(), "the first load wrote one cache file beside the model: " + files);
        Path file = files.get(0);
        FileTime written = Files.getLastModifiedTime(file);

        Run second = run(model, Quantization.NONE, true);
        assertTrue(second.hits > 0, "second load maps the cache");
        assertEquals(written, Files.getLastModifiedTime(file), "every weight matched (a partial match rewrites the file)");
        assertArrayEquals(fresh.logits, second.logits, "cached weights give the same logits, bit for bit");
        assertTrue(second.err.isEmpty(), second.err);

        long size = Files.size(file);
        for (int i = 0; i < 64; i++) PackCacheTest.flip(file, size / 2 + i);   // at least one entry's data (entries are 64-byte aligned)
        Run corrupt = run(model, Quantization.NONE, true);
        assertTrue(corrupt.hits < second.hits, "the corrupted entry is not used");
        assertArrayEquals(fresh.logits, corrupt.logits, "corrupted cache: repacked, same logits");
        assertEquals(1, corrupt.err.lines().filter(l -> l.startsWith("cortado: WARNING: pack cache ")).count(), corrupt.err);
        assertEquals(second.hits, run(model, Quantization.NONE, true).hits, "the load rewrote the file");

        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size / 3);
        }
        Run truncated = run(model, Quantization.NONE, true);
        assertEquals(0, truncated.hits);
        assertArrayEquals(fresh.logits, truncated.logits, "truncated cache: repacked, same logits");
        assertEquals(size, Files.size(file), "rewritten whole");
    }

    /** Two GGUF files in one folder each have their own cache file (keyed on the file alone, neither prunes the other). */
    @Test
    void ggufFilesInOneFolderKeepTheirOwnFiles() throws IOException {
        Path q4 = copy("gguf/stories260K-q4_0.gguf"), q8 = copy("gguf/stories260K-q8_0.gguf");
        assertEquals(q4.getParent(), q8.getParent());
        Run a = run(q4, Quantization.NONE, true), b = run(q8, Quantization.NONE, true);
        assertEquals(2, cacheFiles(q4).size());
        assertTrue(run(q4, Quantization.NONE, true).hits > 0);
        assertTrue(run(q8, Quantization.NONE, true).hits > 0);
        // touching one file makes a new key for it only; its stale file is replaced, the other file's kept
        Files.setLastModifiedTime(q8, FileTime.fromMillis(Files.getLastModifiedTime(q8).toMillis() + 5000));
        Run b2 = run(q8, Quantization.NONE, true);
        assertEquals(0, b2.hits);
        assertArrayEquals(b.logits, b2.logits);
        assertEquals(2, cacheFiles(q4).size());
        Run a2 = run(q4, Quantization.NONE, true);
        assertTrue(a2.hits > 0);
        assertArrayEquals(a.logits, a2.logits);
    }

    /**
     * --quantize on a GGUF file (its float tensors, here the mixed file's BF16 MLP, are quantized) and --quantize-all
     * are other options: other files, each hitting on its second load with its own logits.
     */
    @Test
    void quantizeOptionsHaveTheirOwnFiles() throws IOException {
        Path model = copy("gguf/stories260K-mixed.gguf");
        Quantization[] opts = {Quantization.NONE, new Quantization(8, false), new Quantization(4, true)};
        for (Quantization q : opts) {
            Run first = run(model, q, true);
            assertEquals(0, first.hits, q.toString());
            Run second = run(model, q, true);
            assertTrue(second.hits > 0, q.toString());
            assertArrayEquals(run(model, q, false).logits, second.logits, q.toString());
        }
        assertEquals(opts.length, cacheFiles(model).size());
        for (Quantization q : opts) assertTrue(run(model, q, true).hits > 0, q + " kept its file");
    }

    /**
     * Whether 4-bit weights multiply int8 activations is not in the packed bytes: the cache entry keeps it, so a cached
     * load computes what the packing load did. GGUF with --activations int8 (a hit skips the QuantizedMatrix that would
     * say so), and a MatMulNBits file with accuracy_level 4 (the bench's writer, smoke size).
     */
    @Test
    void int8ActivationsSurviveTheCache() throws IOException {
        Path gguf = copy("gguf/stories260K-q4_0.gguf");
        Quantization int8 = Quantization.NONE.withInt8Activations(true);
        Run cached = cachedEqualsFresh(gguf, int8);
        assertFalse(java.util.Arrays.equals(cached.logits, run(gguf, Quantization.NONE, false).logits), "int8 activations change the logits");

        Path onnx = dev.cortado.bench.Int4Onnx.materialize("gpt2-124m-smoke", tmp.resolve("int4"),
                new dev.cortado.bench.Int4Onnx.Options(false, 4));
        cachedEqualsFresh(onnx, Quantization.NONE);
    }

    /**
     * q/k/v of different layouts (Q4_0 q/k, Q8_0 v, as Q4_K_M files mix Q4_K and Q6_K) are bound separately; their
     * layouts are told without converting them, so a cached load converts none of them, and gives the same logits.
     */
    @Test
    void unstackableProjectionsFromTheCache() throws IOException {
        Path model = tmp.resolve("files").resolve("mixed-qkv.gguf");
        Files.createDirectories(model.getParent());
        try (GgufFile f = GgufFile.open(Fixtures.ROOT.resolve("gguf/stories260K-q4_0.gguf"))) {
            Files.write(model, GgufTestWriter.rewrite(f, m -> {}, ts -> {
                java.util.Random r = new java.util.Random(7);
                for (int i = 0; i < ts.size(); i++) {
                    GgufTestWriter.T t = ts.get(i);
                    if (!t.name().endsWith("attn_v.weight") || t.type() != GgmlType.Q4_0.id) continue;
                    long blocks = t.ne()[0] * t.ne()[1] / 32;
                    byte[] q8 = new byte[Math.toIntExact(blocks * 34)];   // Q8_0: fp16 scale, 32 int8 codes per block
                    for (int b = 0; b < blocks; b++) {
                        short d = Float.floatToFloat16(0.002f + 0.001f * r.nextFloat());
                        q8[b * 34] = (byte) d;
                        q8[b * 34 + 1] = (byte) (d >> 8);
                        for (int k = 0; k < 32; k++) q8[b * 34 + 2 + k] = (byte) (r.nextInt(255) - 127);
                    }
                    ts.set(i, new GgufTestWriter.T(t.name(), GgmlType.Q8_0.id, t.ne(), q8, null));
                }
            }));
        }
        Run cached = cachedEqualsFresh(model, Quantization.NONE);
        assertTrue(cached.err.isEmpty(), cached.err);
    }

    /** A GGUF file of float tensors only is cached like a float safetensors folder when float caching is on (its q/k rows un-permuted first). */
    @Test
    void floatGgufIsCachedToo() throws IOException {
        Path model = copy("gguf/stories260K-f32.gguf");
        cachedEqualsFresh(model, Quantization.NONE);
    }

    /** --no-cache (the property off): neither read nor written. */
    @Test
    void offWritesNothing() throws IOException {
        Path model = copy("gguf/stories260K-q4_0.gguf");
        assertEquals(-1, run(model, Quantization.NONE, false).hits);
        assertFalse(Files.exists(model.resolveSibling(PackCache.DIR)));
    }

    private record Run(float[] logits, int hits, String err) {}

    /** Loaded without the cache, then twice with it: the first writes (no hits), the second hits and gives the same logits. */
    private static Run cachedEqualsFresh(Path model, Quantization q) {
        Run fresh = run(model, q, false);
        assertEquals(0, run(model, q, true).hits, "first cached load of " + model.getFileName() + " writes");
        Run cached = run(model, q, true);
        assertTrue(cached.hits > 0, "second cached load of " + model.getFileName() + " maps the cache");
        assertArrayEquals(fresh.logits, cached.logits);
        return cached;
    }

    /** Loads the model, returns the logits after the prompt and one more token, the cache hits and what went to stderr. */
    private static Run run(Path model, Quantization q, boolean cache) {
        CpuBackend be = new CpuBackend(WorkerPool.shared(), DType.F32, q).packCache(cache).packCacheFloats(true);
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (LanguageModel m = Families.openDecoder(model, be, Families.Engine.CORTADO)) {
            return new Run(PackCacheTest.twoSteps(m), be.packCacheHits, captured.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(err);
        }
    }

    /** A copy of a fixture file (into one shared folder) or folder (its regular files) under the temporary folder. */
    private Path copy(String fixture) throws IOException {
        Path from = Fixtures.ROOT.resolve(fixture);
        if (Files.isRegularFile(from)) {
            Path to = tmp.resolve("files").resolve(from.getFileName());
            Files.createDirectories(to.getParent());
            Files.copy(from, to);
            return to;
        }
        Path to = tmp.resolve(from.getFileName());
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
        return to;
    }

    private static List<Path> cacheFiles(Path model) throws IOException {
        Path c = (Files.isDirectory(model) ? model : model.getParent()).resolve(PackCache.DIR);
        if (!Files.isDirectory(c)) return List.of();
        try (Stream<Path> s = Files.list(c)) {
            return s.filter(p -> p.toString().endsWith(".bin")).toList();
        }
    }
}
