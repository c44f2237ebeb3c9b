package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.kv.KvCache;
import dev.cortado.layers.DecoderLayer;
import dev.cortado.layers.TransformerDecoder;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Decode steps replayed as CUDA graphs on a device: stories260K gives the same greedy tokens and logits (≤ 1e-5) with
 * graphs as without ({@code cortado.cudaGraphs=false}) over N steps, with replays counted; a T5-shaped decoder (bias on
 * the device, cross-attention) gives the CPU backend's logits (≤ 1e-4) with its decode steps replayed. Skips without
 * a GPU.
 */
@Tag("gpu")
class CudaGraphGpuTest {
    static final int N = 40;

    /** Greedy from BOS for N steps on a fresh stories260K: {tokens, logits per step}. */
    static Object[] stories(boolean graphs, long[] stats) {
        String before = System.getProperty(CudaStepGraphs.PROPERTY);
        System.setProperty(CudaStepGraphs.PROPERTY, Boolean.toString(graphs));
        try (dev.cortado.generate.LanguageModel m = CudaBackendGpuTest.stories(DType.F32);
             dev.cortado.generate.DecoderSession s = m.newSession(1)) {
            CudaBackend be = (CudaBackend) ((dev.cortado.engine.DecoderModel) m).backend();
            int[] tokens = new int[N];
            float[][] logits = new float[N][];
            int next = 1;
            for (int i = 0; i < N; i++) {
                logits[i] = s.step(new int[][] {{next}}, null)[0];
                next = tokens[i] = CudaBackendGpuTest.argmax(logits[i]);
            }
            System.arraycopy(be.graphStats(), 0, stats, 0, 3);
            return new Object[] {tokens, logits};
        } finally {
            if (before == null) System.clearProperty(CudaStepGraphs.PROPERTY);
            else System.setProperty(CudaStepGraphs.PROPERTY, before);
        }
    }

    @Test
    void stories260KReplayedStepsGiveTheEagerLogits() {
        CudaBackendGpuTest.requireGpu();
        long[] eagerStats = new long[3], graphStats = new long[3];
        Object[] eager = stories(false, eagerStats), graph = stories(true, graphStats);
        assertEquals(0, eagerStats[0], "no capture with graphs off");
        assertTrue(graphStats[0] >= 1, "captured: " + java.util.Arrays.toString(graphStats));
        assertTrue(graphStats[1] >= N - 2 * graphStats[0], "replayed: " + java.util.Arrays.toString(graphStats));
        assertArrayEquals((int[]) eager[0], (int[]) graph[0], "greedy tokens");
        float[][] a = (float[][]) eager[1], b = (float[][]) graph[1];
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < a[i].length; j++) assertEquals(a[i][j], b[i][j], 1e-5f, "step " + i + " logit " + j);
        }
    }

    /** Logits of a 3-token prefill and {@code decodes} steps of the T5-shaped decoder over 2 rows. */
    static float[][] t5Logits(Backend be, int decodes) {
        int layers = 2, rows = 2, src = 5, w = CudaStepPlanTest.KV_HEADS * CudaStepPlanTest.HD, cap = CudaStepPlanTest.CAP;
        TransformerDecoder dec = CudaStepGraphTest.t5(be, layers);
        KvCache cache = new KvCache(be, layers, rows, CudaStepPlanTest.KV_HEADS, cap, CudaStepPlanTest.HD);
        java.util.Random r = new java.util.Random(3);
        float[] kv = new float[rows * src * w];
        for (int i = 0; i < kv.length; i++) kv[i] = (float) r.nextGaussian() * 0.3f;
        Tensor k = be.weight(Tensor.of(kv, rows, src, w)), v = be.weight(Tensor.of(kv, rows, src, w));
        Tensor kd = be.allocate(DType.F32, rows, src, w), vd = be.allocate(DType.F32, rows, src, w);
        be.add(k, kd, kd);
        be.add(v, vd, vd);
        boolean[][] srcValid = {{true, true, true, true, true}, {true, true, true, false, false}};
        List<DecoderLayer.Cross> cross = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            cross.add(new DecoderLayer.Cross(KvView.ofRows(kd, src, CudaStepPlanTest.KV_HEADS, CudaStepPlanTest.HD),
                    KvView.ofRows(vd, src, CudaStepPlanTest.KV_HEADS, CudaStepPlanTest.HD), src, new AttentionMask(srcValid, false, 0), null));
        }
        boolean[][] valid = new boolean[rows][cap];
        float[][] out = new float[decodes + 1][];
        int length = 0;
        for (int s = 0; s <= decodes; s++) {
            int n = s == 0 ? 3 : 1;
            int[][] tokens = new int[rows][n], pos = new int[rows][n];
            int[] flat = new int[rows * n];
            for (int b = 0; b < rows; b++) {
                for (int j = 0; j < n; j++) {
                    tokens[b][j] = (b * 5 + 3 * j + length) % CudaStepPlanTest.VOCAB;
                    pos[b][j] = flat[b * n + j] = length + j;
                    valid[b][length + j] = true;
                }
            }
            cache.prepareWrite(length, n);
            try (Backend.Scope scope = be.scope()) {
                out[s] = be.toHost(dec.step(be, tokens, pos, flat, cache, length, new AttentionMask(valid, true, length), cross));
            }
            length += n;
        }
        return out;
    }

    @Test
    void t5ShapedReplayedStepsGiveTheCpuLogits() {
        CudaBackendGpuTest.requireGpu();
        int decodes = 12;
        float[][] want = t5Logits(new CpuBackend(), decodes);
        float[][] got;
        long[] stats;
        try (CudaBackend be = new CudaBackend(0, DType.F32)) {
            got = t5Logits(be, decodes);
            stats = be.graphStats();
        }
        assertEquals(1, stats[0], "the decode steps share one bucket: " + java.util.Arrays.toString(stats));
        assertEquals(decodes - 1, stats[1], "replays");
        for (int s = 0; s < want.length; s++) {
            for (int i = 0; i < want[s].length; i++) assertEquals(want[s][i], got[s][i], 1e-4f, "step " + s + " logit " + i);
        }
    }
}
