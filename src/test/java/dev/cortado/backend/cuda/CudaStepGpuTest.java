package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.kv.KvCache;
import dev.cortado.layers.TransformerDecoder;
import dev.cortado.tensor.DType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The step contract on a device: the decoders of {@link CudaStepPlanTest} (separate and fused projections, Llama- and
 * seq2seq-shaped) give the CPU backend's logits on CUDA (fp32, ≤ 1e-4) for a prefill and decode steps, and a decode
 * step makes at most 2 host → device copies in the backend's bookkeeping (1 here: no T5 bias). Skips without a GPU.
 */
@Tag("gpu")
class CudaStepGpuTest {

    /** Logits [rows, vocab] of each step: a 3-token prefill then 3 decode steps over 2 rows. */
    static float[][] run(Backend be, boolean fused, long[] h2dPerDecode) {
        int layers = 2, rows = 2;
        TransformerDecoder dec = CudaStepPlanTest.decoder(be, layers, false, fused);
        KvCache cache = new KvCache(be, layers, rows, CudaStepPlanTest.KV_HEADS, CudaStepPlanTest.CAP, CudaStepPlanTest.HD);
        boolean[][] valid = new boolean[rows][CudaStepPlanTest.CAP];
        int[] ns = {3, 1, 1, 1};
        float[][] out = new float[ns.length][];
        int length = 0;
        try {
            for (int s = 0; s < ns.length; s++) {
                int n = ns[s];
                int[][] tokens = new int[rows][n], pos = new int[rows][n];
                int[] flat = new int[rows * n];
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < n; j++) {
                        tokens[r][j] = (r * 5 + 3 * j + length) % CudaStepPlanTest.VOCAB;
                        pos[r][j] = flat[r * n + j] = length + j;
                        valid[r][length + j] = true;
                    }
                }
                cache.prepareWrite(length, n);
                CudaBackend.Transfers before = be instanceof CudaBackend c ? c.transfers() : null;
                try (Backend.Scope scope = be.scope()) {
                    out[s] = be.toHost(dec.step(be, tokens, pos, flat, cache, length, new AttentionMask(valid, true, length), null));
                }
                if (before != null && n == 1) h2dPerDecode[0] = Math.max(h2dPerDecode[0], ((CudaBackend) be).transfers().minus(before).hostToDevice());
                length += n;
            }
        } finally {
            cache.free();
        }
        return out;
    }

    @Test
    void stepMetadataAndFusedLayersMatchTheCpuBackend() {
        CudaBackendGpuTest.requireGpu();
        for (boolean fused : new boolean[] {false, true}) {
            float[][] want = run(new CpuBackend(), fused, new long[1]);
            long[] h2d = new long[1];
            float[][] got;
            try (CudaBackend be = new CudaBackend(0, DType.F32)) {
                got = run(be, fused, h2d);
            }
            for (int s = 0; s < want.length; s++) {
                assertEquals(want[s].length, got[s].length);
                for (int i = 0; i < want[s].length; i++) assertEquals(want[s][i], got[s][i], 1e-4f, "step " + s + " logit " + i + (fused ? " (fused)" : ""));
            }
            assertTrue(h2d[0] <= 2, "host → device copies per decode step on the device: " + h2d[0]);
        }
    }

    /** stories260K on the device: a decode step makes one host → device copy; a greedy step brings back rows ids. */
    @Test
    void stories260KDecodeStepUploadsOnceAndGreedyDownloadsIds() {
        CudaBackendGpuTest.requireGpu();
        try (dev.cortado.generate.LanguageModel m = CudaBackendGpuTest.stories(DType.F32);
             dev.cortado.generate.DecoderSession s = m.newSession(2)) {
            CudaBackend be = (CudaBackend) ((dev.cortado.engine.DecoderModel) m).backend();
            float[][] logits = s.step(new int[][] {{1, 403}, {1, 365}}, null);
            int[][] next = {{CudaBackendGpuTest.argmax(logits[0])}, {CudaBackendGpuTest.argmax(logits[1])}};
            CudaBackend.Transfers before = be.transfers();
            dev.cortado.backend.Greedy g = s.stepGreedy(next, null);
            CudaBackend.Transfers t = be.transfers().minus(before);
            assertEquals(1, t.hostToDevice(), "one upload per decode step: " + t);
            assertEquals(1 + 2, t.deviceToHost(), "ids, then one log-probability per row: " + t);
            assertEquals(2, g.ids().length);
        }
    }
}
