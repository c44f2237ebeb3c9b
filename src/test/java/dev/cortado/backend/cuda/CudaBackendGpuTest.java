package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.device.Device;
import dev.cortado.backend.Backend;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import dev.cortado.kv.KvCache;
import dev.cortado.registry.Families;
import dev.cortado.tensor.DType;
import dev.cortado.testing.Shared;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * CUDA backend parity: whole models on {@link CudaBackend} against llama2.c's goldens and against the CPU backend.
 * Skips (with the driver's reason) where no CUDA driver or device is usable. Run on a GPU machine with
 * {@code bash target/device/run.sh test --tag gpu}.
 */
@Tag("gpu")
class CudaBackendGpuTest {
    static final Path FIXTURES = Path.of("models/fixtures");

    /** Skips the calling test unless a CUDA backend opens on device 0. */
    static void requireGpu() {
        String reason = CudaDriver.unavailableReason();
        Assumptions.assumeTrue(reason == null, () -> "GPU test skipped: " + reason);
        try (CudaBackend probe = new CudaBackend(0)) {
            probe.name();
        } catch (CudaException e) {
            Assumptions.abort("GPU test skipped: " + e.getMessage());
        }
    }

    static int argmax(float[] a) {
        int b = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
        return b;
    }

    static int[] greedyFromBos(LanguageModel m, int n) {
        int[] got = new int[n];
        try (DecoderSession s = m.newSession(1)) {
            int tok = 1;
            for (int i = 0; i < n; i++) {
                tok = argmax(s.step(new int[][] {{tok}}, null)[0]);
                got[i] = tok;
            }
        }
        return got;
    }

    static int[] golden() throws Exception {
        JsonNode g = new ObjectMapper().readTree(Shared.require("models/stories260K/goldens.json").toFile()).get("greedy_from_bos");
        return new ObjectMapper().convertValue(g.has("ids") ? g.get("ids") : g.get("generated_ids"), int[].class);
    }

    static LanguageModel stories(DType dtype) {
        return Families.openDecoder(Shared.require("models/stories260K"), Device.cuda(0), dtype, Families.Engine.CORTADO);
    }

    @Test
    void stories260KGreedy200EqualsLlama2cOnFp32() throws Exception {
        requireGpu();
        int[] expected = golden();
        try (LanguageModel m = stories(DType.F32)) {
            assertArrayEquals(expected, greedyFromBos(m, expected.length));
        }
    }

    @Test
    void stories260KGreedy64OnFp16EqualsLlama2c() throws Exception {
        requireGpu();
        int[] expected = Arrays.copyOf(golden(), 64);
        try (LanguageModel m = stories(DType.F16)) {
            assertArrayEquals(expected, greedyFromBos(m, 64));
        }
    }

    static void assertClose(float[] cpu, float[] gpu, String what) {
        assertEquals(cpu.length, gpu.length, what);
        double worst = 0;
        for (int i = 0; i < cpu.length; i++) worst = Math.max(worst, Math.abs(cpu[i] - gpu[i]));
        assertTrue(worst <= 1e-3, what + ": max |cpu − cuda| = " + worst);
    }

    /** Prefill of a 3-token prompt (prefill kernel), then 7 single-token steps (decode kernel), greedy by the CPU. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-gpt2", "tiny-llama", "tiny-llama-scaled", "tiny-qwen2", "tiny-mistral"})
    void decoderFixtureLogitsWithin1e3OfCpu(String name) {
        requireGpu();
        Path dir = FIXTURES.resolve(name);
        try (LanguageModel cpu = Families.openDecoder(dir, new CpuBackend(), Families.Engine.CORTADO);
             LanguageModel gpu = Families.openDecoder(dir, Device.cuda(0), DType.F32, Families.Engine.CORTADO);
             DecoderSession a = cpu.newSession(1); DecoderSession b = gpu.newSession(1)) {
            int[] in = {1, 5, 9};
            for (int step = 0; step < 8; step++) {
                float[] x = a.step(new int[][] {in}, null)[0], y = b.step(new int[][] {in}, null)[0];
                assertClose(x, y, name + " step " + step);
                in = new int[] {argmax(x)};
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-t5", "tiny-flan-t5", "tiny-bart", "tiny-marian"})
    void seq2seqFixtureLogitsWithin1e3OfCpu(String name) throws Exception {
        requireGpu();
        Path dir = FIXTURES.resolve(name);
        JsonNode g = new ObjectMapper().readTree(dir.resolve("goldens.json").toFile());
        int start = g.get("special_ids").get("decoder_start_token_id").asInt();
        JsonNode c = g.get("step_logits").get("cases").get(0);
        int[] src = new ObjectMapper().convertValue(c.get("input_ids"), int[].class);
        boolean[][] valid = {new boolean[src.length]};
        Arrays.fill(valid[0], true);
        try (Seq2Seq cpu = Families.openSeq2Seq(dir, new CpuBackend(), Families.Engine.CORTADO);
             Seq2Seq gpu = Families.openSeq2Seq(dir, Device.cuda(0), DType.F32, Families.Engine.CORTADO)) {
            try (DecoderSession a = cpu.bind(cpu.encode(new int[][] {src}, valid), 1).newSession(1);
                 DecoderSession b = gpu.bind(gpu.encode(new int[][] {src}, valid), 1).newSession(1)) {
                int tok = start;
                for (int step = 0; step < 8; step++) {
                    float[] x = a.step(new int[][] {{tok}}, null)[0], y = b.step(new int[][] {{tok}}, null)[0];
                    assertClose(x, y, name + " step " + step);
                    tok = argmax(x);
                }
            }
        }
    }

    @Test
    void thousandLoadGenerateCloseCyclesLeakNoDeviceMemory() {
        requireGpu();
        // holding a context keeps the primary context alive between cycles, so free memory is comparable
        try (CudaContext probe = CudaContext.open(0)) {
            try (LanguageModel m = stories(DType.F32)) {
                greedyFromBos(m, 8); // warm-up: module load, cuBLASLt, lazy driver state
            }
            long before = probe.memoryInfo()[0];
            for (int i = 0; i < 1000; i++) {
                try (LanguageModel m = stories(DType.F32)) {
                    greedyFromBos(m, 8);
                }
            }
            long after = probe.memoryInfo()[0];
            assertTrue(before - after <= 4L << 20, "device memory lost over 1000 cycles: " + (before - after) + " bytes");
        }
    }

    @Test
    void kvCacheLargerThanTheGpuIsAClearErrorAndTheProcessGoesOn() {
        requireGpu();
        try (CudaBackend be = new CudaBackend(0)) {
            long total = be.memoryInfo()[1];
            int rows = 64, kvHeads = 32, headDim = 128;
            int capacity = (int) Math.min(Integer.MAX_VALUE - 64, 2 * total / ((long) rows * kvHeads * headDim * 4));
            CudaException e = assertThrows(CudaException.class, () -> new KvCache(be, 2, rows, kvHeads, capacity, headDim));
            assertTrue(e.isOutOfMemory(), e.getMessage());
            // still usable afterwards
            Backend b = be;
            float[] v = {1, 2, 3, 4};
            assertArrayEquals(v, b.toHost(b.fromHost(v, 4)));
        }
        int[] expected;
        try {
            expected = Arrays.copyOf(golden(), 16);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        try (LanguageModel m = stories(DType.F32)) {
            assertArrayEquals(expected, greedyFromBos(m, 16));
        }
    }
}
