package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.Quantization;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import dev.cortado.testing.Fixtures;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The pack cache ({@link PackCache}, {@code .cortado-cache/}) over temporary copies of the decoder and seq2seq
 * fixtures: a second load (quantized, or float in fp32 or bf16 panels) takes every packed weight from the file and
 * gives bit-identical logits; a corrupted, truncated or stale file is repacked (identical logits) and rewritten; the
 * switch turns it off; an unwritable cache folder is skipped without an error. The logits themselves are pinned against
 * transformers by QuantizedFixturesTest, DecoderFixturesTest and Seq2SeqFixturesTest. Already quantized files (GGUF,
 * MatMulNBits): QuantizedFilePackCacheTest.
 */
class PackCacheTest {
    @TempDir
    Path tmp;

    private static final int[] PROMPT = {3, 17, 42, 5, 9};

    @ParameterizedTest(name = "{0} int{1}")
    @CsvSource({"tiny-gpt2, 4", "tiny-llama, 4", "tiny-llama, 8", "tiny-qwen2, 4"})
    void secondLoadMapsTheCacheAndCorruptionRepacks(String fixture, int bits) throws IOException {
        Path dir = copy(fixture);
        Run first = run(dir, bits, true);
        assertEquals(0, first.hits, "first load packs");
        Path file = cacheFile(dir);
        assertNotNull(file, "the first load wrote " + PackCache.DIR);

        FileTime written = Files.getLastModifiedTime(file);
        Run second = run(dir, bits, true);
        assertTrue(second.hits > 0, "second load maps the cache");
        assertEquals(written, Files.getLastModifiedTime(file), "every weight matched (a partial match rewrites the file)");
        assertArrayEquals(first.logits, second.logits, "cached weights give the same logits, bit for bit");

        long size = Files.size(file);
        // flipped bytes in the middle of the panels (64 in a row: entries are 64-byte aligned, so at least one is in an
        // entry's data): that entry's checksum fails, it and the rest are packed afresh
        for (int i = 0; i < 64; i++) flip(file, size / 2 + i);
        Run corrupt = run(dir, bits, true);
        assertTrue(corrupt.hits < second.hits, "the corrupted entry is not used");
        assertArrayEquals(first.logits, corrupt.logits, "corrupted cache: repacked, same logits");
        assertEquals(second.hits, run(dir, bits, true).hits, "the load rewrote the file");

        // truncated
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size / 3);
        }
        Run truncated = run(dir, bits, true);
        assertEquals(0, truncated.hits);
        assertArrayEquals(first.logits, truncated.logits, "truncated cache: repacked, same logits");
        assertEquals(size, Files.size(file), "rewritten whole");

        // a flipped byte in the header (the key or an entry's layout): the header checksum fails
        flip(file, 40);
        Run header = run(dir, bits, true);
        assertEquals(0, header.hits);
        assertArrayEquals(first.logits, header.logits);
        assertEquals(second.hits, run(dir, bits, true).hits);

        // garbage of the right size
        Files.write(file, new byte[(int) size]);
        assertArrayEquals(first.logits, run(dir, bits, true).logits);
        assertEquals(second.hits, run(dir, bits, true).hits);
    }

    @Test
    void keyedOnOptionsAndSourceFiles() throws IOException {
        Path dir = copy("tiny-llama");
        run(dir, 4, true);
        Run int8 = run(dir, 8, true);
        assertEquals(0, int8.hits, "int8 has its own file");
        assertEquals(2, cacheFiles(dir).size());
        assertTrue(run(dir, 4, true).hits > 0);
        // the model file changed (here only its modification time): a new key, a fresh pack
        Path st = dir.resolve("model.safetensors");
        Files.setLastModifiedTime(st, FileTime.fromMillis(Files.getLastModifiedTime(st).toMillis() + 5000));
        assertEquals(0, run(dir, 4, true).hits);
        assertTrue(run(dir, 4, true).hits > 0);
        assertEquals(2, cacheFiles(dir).size(), "the stale int4 file was replaced, the int8 one kept");
    }

    @Test
    void offSwitchAndUnwritableFolder() throws IOException {
        Path dir = copy("tiny-gpt2");
        Run off = run(dir, 4, false);
        assertEquals(-1, off.hits);
        assertFalse(Files.exists(dir.resolve(PackCache.DIR)), "--no-cache writes nothing");
        // the cache folder cannot be created (a file is in the way; root ignores permission bits): no error, no cache
        Files.writeString(dir.resolve(PackCache.DIR), "not a folder");
        Run blocked = run(dir, 4, true);
        assertArrayEquals(off.logits, blocked.logits);
        assertEquals(0, run(dir, 4, true).hits, "nothing could be written, nothing is read");
    }

    /**
     * Float loads (no --quantize) write no cache file by default (it would be a second copy of the weights); with float
     * caching on ({@code -Dcortado.packCache=all}): fp32 weights laid out in fp32 panels, or narrowed to bf16 panels
     * (--dtype bf16); each linear dtype has its own file, and a cached load gives the same logits bit for bit.
     */
    @ParameterizedTest(name = "{0} as {1}")
    @CsvSource({"tiny-gpt2, F32", "tiny-llama, F32", "tiny-llama, BF16", "tiny-qwen2, BF16"})
    void floatLoadsAreCachedToo(String fixture, DType linear) throws IOException {
        Path dir = copy(fixture);
        Run fresh = runFloat(dir, linear, false);
        assertEquals(-1, fresh.hits);
        assertEquals(-1, logits(new CpuBackend(WorkerPool.shared(), linear, Quantization.NONE).packCache(true), dir).hits,
                "float loads are not cached by default");
        assertEquals(0, cacheFiles(dir).size(), "float loads write no cache file by default");
        assertEquals(0, runFloat(dir, linear, true).hits, "first load packs");
        assertEquals(1, cacheFiles(dir).size());
        Run second = runFloat(dir, linear, true);
        assertTrue(second.hits > 0, "second load maps the cache");
        assertArrayEquals(fresh.logits, second.logits, "cached weights give the same logits, bit for bit");
        assertEquals(0, run(dir, 4, true).hits, "--quantize has its own file");
        assertEquals(2, cacheFiles(dir).size());
        assertTrue(runFloat(dir, linear, true).hits > 0);
    }

    /** Encoder-decoder folders (safetensors) load through the cache too, float and quantized: same logits from a cached load. */
    @ParameterizedTest(name = "{0} int{1}")
    @CsvSource({"tiny-t5, 0", "tiny-bart, 0", "tiny-marian, 0", "tiny-t5, 8", "tiny-bart, 4"})
    void seq2seqLoads(String fixture, int bits) throws IOException {
        Path dir = copy(fixture);
        Quantization q = bits == 0 ? Quantization.NONE : new Quantization(bits, false);
        Run fresh = seq2seq(dir, q, false);
        assertEquals(0, seq2seq(dir, q, true).hits);
        Run second = seq2seq(dir, q, true);
        assertTrue(second.hits > 0, "second load maps the cache");
        assertArrayEquals(fresh.logits, second.logits);
    }

    private static Run seq2seq(Path dir, Quantization q, boolean cache) {
        CpuBackend be = new CpuBackend(WorkerPool.shared(), DType.F32, q).packCache(cache).packCacheFloats(true);
        try (Seq2Seq m = Families.openSeq2Seq(dir, be, Families.Engine.CORTADO)) {
            boolean[][] valid = {{true, true, true, true, true}};
            LanguageModel lm = m.bind(m.encode(new int[][] {PROMPT}, valid), 1);
            try (DecoderSession s = lm.newSession(1)) {
                float[] a = s.step(new int[][] {{0}}, null)[0];
                float[] b = s.step(new int[][] {{Fixtures.argmax(a)}}, null)[0];
                float[] both = new float[a.length + b.length];
                System.arraycopy(a, 0, both, 0, a.length);
                System.arraycopy(b, 0, both, a.length, b.length);
                return new Run(both, be.packCacheHits);
            }
        }
    }

    private static Run runFloat(Path dir, DType linear, boolean cache) {
        return logits(new CpuBackend(WorkerPool.shared(), linear, Quantization.NONE).packCache(cache).packCacheFloats(true), dir);
    }

    /** Tables (converted embedding tables) round-trip too, and a request that differs from the file's ends its use. */
    @Test
    void tablesAndMismatchedRequests() throws IOException {
        Path dir = copy("tiny-gpt2");
        try (Arena a = Arena.ofShared()) {
            Tensor t = Tensor.allocate(a, DType.BF16, 300, 64);
            for (long i = 0; i < t.numel(); i++) t.data().setAtIndex(Tensor.I16_LE, i, (short) (i * 31));
            PackCache.Session s = PackCache.open(dir, "test", a);
            assertNull(s.next("table A"));
            s.record("table A", new PackCache.Table(t));
            s.finish(true);

            PackCache.Session r = PackCache.open(dir, "test", a);
            PackCache.Item it = r.next("table A");
            Tensor got = assertInstanceOf(PackCache.Table.class, it).table();
            assertEquals(DType.BF16, got.dtype());
            assertArrayEquals(t.shape(), got.shape());
            assertEquals(-1L, t.data().mismatch(got.data()));
            assertTrue(got.data().isReadOnly(), "mapped read-only");

            PackCache.Session other = PackCache.open(dir, "other options", a);
            assertNull(other.next("table A"), "another key: another file");
            PackCache.Session wrong = PackCache.open(dir, "test", a);
            assertNull(wrong.next("table B"), "a different request is not answered from the file");
        }
    }

    private record Run(float[] logits, int hits) {}

    /** Loads the model quantized, returns the logits after the prompt and one more token, and how many weights came from the cache. */
    private static Run run(Path dir, int bits, boolean cache) {
        return logits(new CpuBackend(WorkerPool.shared(), DType.F32, new Quantization(bits, false)).packCache(cache), dir);
    }

    private static Run logits(CpuBackend be, Path dir) {
        try (LanguageModel m = Families.openDecoder(dir, be, Families.Engine.CORTADO)) {
            return new Run(twoSteps(m), be.packCacheHits);
        }
    }

    /** The logits after PROMPT and after the greedy next token, end to end (the pack cache tests compare these). */
    static float[] twoSteps(LanguageModel m) {
        try (DecoderSession s = m.newSession(1)) {
            float[] a = s.step(new int[][] {PROMPT}, null)[0];
            float[] b = s.step(new int[][] {{Fixtures.argmax(a)}}, null)[0];
            float[] both = new float[a.length + b.length];
            System.arraycopy(a, 0, both, 0, a.length);
            System.arraycopy(b, 0, both, a.length, b.length);
            return both;
        }
    }

    private Path copy(String fixture) throws IOException {
        Path from = Fixtures.ROOT.resolve(fixture), to = tmp.resolve(fixture);
        Files.createDirectories(to);
        for (String f : new String[] {"config.json", "generation_config.json", "model.safetensors"}) {
            if (Files.exists(from.resolve(f))) Files.copy(from.resolve(f), to.resolve(f));
        }
        return to;
    }

    private static List<Path> cacheFiles(Path dir) throws IOException {
        Path c = dir.resolve(PackCache.DIR);
        if (!Files.isDirectory(c)) return List.of();
        try (Stream<Path> s = Files.list(c)) {
            return s.filter(p -> p.toString().endsWith(".bin")).toList();
        }
    }

    private static Path cacheFile(Path dir) throws IOException {
        List<Path> f = cacheFiles(dir);
        return f.size() == 1 ? f.get(0) : null;
    }

    /** Flips bits of the byte at {@code at} in file (corrupting a cache entry). */
    static void flip(Path file, long at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x5a);
        }
    }
}
