package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.kv.KvCache;
import dev.cortado.layers.DecoderLayer;
import dev.cortado.layers.TransformerDecoder;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Decode steps as CUDA graphs, checked without a GPU on the {@link RecordingDevice}: the first one-token step of a
 * bucket runs eagerly and is captured; later steps of the bucket upload their metadata once and launch the graph —
 * no kernel launches from the host; a new bucket (other rows, another cache) captures once; ragged paged batches of
 * 3 and 4 rows share the 4-row graph (inert padding rows: no key written, block 0 read); a refused capture and
 * {@code -Dcortado.cudaGraphs=false} run every step eagerly.
 */
class CudaStepGraphTest {
    static final int CAP = CudaStepPlanTest.CAP;

    /** What one forward step cost: host → device copies, steps bound, host launches, graph launches. */
    record StepCost(long hostToDevice, long steps, long kernels, long graphLaunches, boolean hasLogits) {}

    /** A 3-token prefill then {@code decodes} one-token steps over {@code rows} rows of a fresh cache. */
    static List<StepCost> run(CudaBackend be, RecordingDevice dev, TransformerDecoder dec, int layers, int rows, int decodes,
                              boolean seq2seq) {
        KvCache cache = new KvCache(be, layers, rows, CudaStepPlanTest.KV_HEADS, CAP, CudaStepPlanTest.HD);
        List<DecoderLayer.Cross> cross = null;
        if (seq2seq) {
            int src = 5, w = CudaStepPlanTest.KV_HEADS * CudaStepPlanTest.HD;
            Tensor k = be.allocate(DType.F32, rows, src, w), v = be.allocate(DType.F32, rows, src, w);
            boolean[][] valid = new boolean[rows][src];
            for (boolean[] r : valid) java.util.Arrays.fill(r, 0, 4, true);
            cross = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                cross.add(new DecoderLayer.Cross(KvView.ofRows(k, src, CudaStepPlanTest.KV_HEADS, CudaStepPlanTest.HD),
                        KvView.ofRows(v, src, CudaStepPlanTest.KV_HEADS, CudaStepPlanTest.HD), src, new AttentionMask(valid, false, 0), null));
            }
        }
        boolean[][] valid = new boolean[rows][CAP];
        int length = 0;
        List<StepCost> costs = new ArrayList<>();
        for (int i = 0; i <= decodes; i++) {
            int n = i == 0 ? 3 : 1;
            int[][] tokens = new int[rows][n], pos = new int[rows][n];
            int[] flat = new int[rows * n];
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < n; j++) {
                    tokens[r][j] = (r * 7 + j + length) % CudaStepPlanTest.VOCAB;
                    pos[r][j] = length + j;
                    flat[r * n + j] = length + j;
                    valid[r][length + j] = true;
                }
            }
            cache.prepareWrite(length, n);
            CudaBackend.Transfers before = be.transfers();
            int mark = dev.launches.size();
            boolean logits;
            try (Backend.Scope s = be.scope()) {
                Tensor out = dec.step(be, tokens, pos, flat, cache, length, new AttentionMask(valid, true, length), cross);
                logits = out.dim(0) == rows && out.dim(1) == CudaStepPlanTest.VOCAB && be.greedy(out).ids().length == rows;
            }
            CudaBackend.Transfers t = be.transfers().minus(before);
            long graphLaunches = dev.count("graph_launch", mark);
            // the greedy pick after the step launches argmax + chosen_logprob
            long kernels = dev.launches.size() - mark - graphLaunches - dev.count("argmax", mark)
                    - dev.count("chosen_logprob", mark);
            costs.add(new StepCost(t.hostToDevice(), t.steps(), kernels, graphLaunches, logits));
            length += n;
        }
        return costs;
    }

    @Test
    void laterStepsOfABucketReplayItsGraphWithOneUploadAndOneLaunch() {
        for (boolean seq2seq : new boolean[] {false, true}) {
            int layers = 3;
            RecordingDevice dev = new RecordingDevice(RecordingDevice.Capture.RECORD);
            try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
                TransformerDecoder dec = CudaStepPlanTest.decoder(be, layers, seq2seq, true);
                List<StepCost> c = run(be, dev, dec, layers, 2, 5, seq2seq);
                assertEquals(0, c.get(0).graphLaunches(), "the prefill runs eagerly");
                StepCost first = c.get(1);
                assertTrue(first.kernels() > layers, "the bucket's first decode step runs eagerly: " + first);
                assertEquals(0, first.graphLaunches());
                assertEquals(1, be.graphStats()[0], "captured once");
                assertTrue(dev.captured.size() >= first.kernels(), "the capture holds the step's kernels");
                for (StepCost s : c.subList(2, c.size())) {
                    assertEquals(1, s.graphLaunches(), "seq2seq " + seq2seq + ": one graph launch: " + s);
                    assertEquals(0, s.kernels(), "no kernel launched from the host: " + s);
                    assertEquals(1, s.hostToDevice(), "one host → device copy per step: " + s);
                    assertEquals(1, s.steps());
                    assertTrue(s.hasLogits(), "the replayed step's logits are a live tensor");
                }
                assertEquals(1, be.graphStats()[0], "the bucket is captured once");
                assertEquals(c.size() - 2, be.graphStats()[1], "replays");
            }
        }
    }

    @Test
    void aNewBucketCapturesOnce() {
        int layers = 2;
        RecordingDevice dev = new RecordingDevice(RecordingDevice.Capture.RECORD);
        try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
            TransformerDecoder dec = CudaStepPlanTest.decoder(be, layers, false, false);
            run(be, dev, dec, layers, 2, 3, false);
            assertEquals(1, be.graphStats()[0]);
            List<StepCost> c = run(be, dev, dec, layers, 3, 3, false);   // other rows, another cache
            assertEquals(2, be.graphStats()[0], "a new bucket is captured once");
            assertEquals(0, c.get(1).graphLaunches());
            assertEquals(1, c.get(2).graphLaunches());
            assertEquals(1, c.get(3).graphLaunches());
            assertEquals(0, c.get(3).kernels());
        }
    }

    /** A T5-shaped decoder: the seq2seq test decoder with a causal relative position bias shared by its layers. */
    static TransformerDecoder t5(Backend be, int layers) {
        TransformerDecoder d = CudaStepPlanTest.decoder(be, layers, true, true);
        float[] table = new float[32 * CudaStepPlanTest.HEADS];
        for (int i = 0; i < table.length; i++) table[i] = (i % 7) * 0.1f;
        return new TransformerDecoder(d.embeddings(), d.layers(), d.finalNorm(), d.lmHead(), d.hiddenScaleBeforeHead(),
                d.kvHeads(), d.headDim(), d.maxPositions(), new dev.cortado.layers.RelativePositionBias(table, 32, 128,
                CudaStepPlanTest.HEADS, false));
    }

    @Test
    void aT5DecodeStepComputesItsBiasOnTheDeviceWithOneUpload() {
        int layers = 3;
        for (RecordingDevice.Capture mode : new RecordingDevice.Capture[] {RecordingDevice.Capture.NONE, RecordingDevice.Capture.RECORD}) {
            RecordingDevice dev = new RecordingDevice(mode);
            try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
                TransformerDecoder dec = t5(be, layers);
                int mark = dev.launches.size();
                List<StepCost> c = run(be, dev, dec, layers, 2, 4, true);
                for (StepCost s : c.subList(1, c.size())) {
                    assertEquals(1, s.hostToDevice(), mode + ": one host → device copy per T5 decode step (no bias upload): " + s);
                    assertTrue(s.hasLogits());
                }
                if (mode == RecordingDevice.Capture.NONE) {
                    assertEquals(c.size(), dev.count("t5_bias", mark), "one bias kernel per step, shared by the layers");
                } else {
                    assertEquals(1, be.graphStats()[0], "the T5 decode step is captured");
                    assertEquals(1, dev.captured.stream().filter(n -> n.startsWith("t5_bias")).count(), "the bias is part of the graph");
                    for (StepCost s : c.subList(2, c.size())) assertEquals(1, s.graphLaunches(), s.toString());
                }
            }
        }
    }

    @Test
    void raggedPagedServingStepsReplay() {
        int layers = 2, rows = 2, steps = 8;
        RecordingDevice dev = new RecordingDevice(RecordingDevice.Capture.RECORD);
        try (CudaBackend be = new CudaBackend(dev, DType.F32);
             dev.cortado.kv.KvPool pool = new dev.cortado.kv.KvPool(be, layers, CudaStepPlanTest.KV_HEADS, CudaStepPlanTest.HD, 8)) {
            TransformerDecoder dec = CudaStepPlanTest.decoder(be, layers, false, true);
            int[][] tables = {{pool.allocate(), pool.allocate()}, {pool.allocate(), pool.allocate()}};
            dev.cortado.kv.KvSource kv = new dev.cortado.kv.KvSource() {
                @Override public KvView keys(int layer) { return pool.keys(layer, tables); }

                @Override public KvView values(int layer) { return pool.values(layer, tables); }
            };
            int[] len = {5, 9};
            for (int i = 0; i < steps; i++) {
                int longest = Math.max(len[0], len[1]);
                int[][] tokens = {{3 + i}, {7 + i}}, pos = {{len[0]}, {len[1]}};
                int[] flat = {len[0], len[1]};
                boolean[][] valid = new boolean[rows][longest + 1];
                for (int r = 0; r < rows; r++) java.util.Arrays.fill(valid[r], 0, len[r] + 1, true);
                CudaBackend.Transfers before = be.transfers();
                int mark = dev.launches.size();
                try (Backend.Scope s = be.scope()) {
                    Tensor out = dec.step(be, tokens, pos, flat, kv, longest, flat.clone(), new AttentionMask(valid, false, 0), null,
                            new int[] {0, 1});
                    assertEquals(rows, out.dim(0));
                }
                CudaBackend.Transfers t = be.transfers().minus(before);
                if (i > 0) {   // the first step also uploads the model's rotary table once
                    assertEquals(1, t.hostToDevice(), "step " + i + ": " + t);
                    assertEquals(1, dev.count("graph_launch", mark), "step " + i + " replays");
                    assertEquals(1, dev.launches.size() - mark, "and launches nothing else");
                }
                len[0]++;
                len[1]++;
            }
            assertEquals(1, be.graphStats()[0], "one bucket: 2 rows, 2 blocks");
            assertEquals(steps - 1, be.graphStats()[1]);
        }
    }

    /** A paged ragged decode step over {@code rows} rows of the pool's first tables, as the serving engine runs it. */
    static Tensor raggedStep(CudaBackend be, TransformerDecoder dec, dev.cortado.kv.KvPool pool, int[][] tables, int[] len,
                             int i) {
        int rows = len.length, longest = 0;
        for (int l : len) longest = Math.max(longest, l);
        int[][] tokens = new int[rows][1], pos = new int[rows][1];
        boolean[][] valid = new boolean[rows][longest + 1];
        for (int r = 0; r < rows; r++) {
            tokens[r][0] = 3 + r + i;
            pos[r][0] = len[r];
            java.util.Arrays.fill(valid[r], 0, len[r] + 1, true);
        }
        int[] flat = len.clone(), logitRows = new int[rows];
        for (int r = 0; r < rows; r++) logitRows[r] = r;
        dev.cortado.kv.KvSource kv = new dev.cortado.kv.KvSource() {
            @Override public KvView keys(int layer) { return pool.keys(layer, tables); }

            @Override public KvView values(int layer) { return pool.values(layer, tables); }
        };
        return dec.step(be, tokens, pos, flat, kv, longest, flat.clone(), new AttentionMask(valid, false, 0), null,
                logitRows);
    }

    @Test
    void raggedBatchSizesPadIntoOneBucketGraph() {
        raggedSizes(new int[] {4, 3, 4, 3, 4});   // requests finish and join: 4, then 3, then 4 rows ...
        raggedSizes(new int[] {3, 4, 3, 3, 4});   // the bucket captured from a padded step
    }

    private static void raggedSizes(int[] sizes) {
        int layers = 2;
        RecordingDevice dev = new RecordingDevice(RecordingDevice.Capture.RECORD);
        try (CudaBackend be = new CudaBackend(dev, DType.F32);
             dev.cortado.kv.KvPool pool = new dev.cortado.kv.KvPool(be, layers, CudaStepPlanTest.KV_HEADS, CudaStepPlanTest.HD, 8)) {
            TransformerDecoder dec = CudaStepPlanTest.decoder(be, layers, false, true);
            int[][] all = new int[4][];
            for (int r = 0; r < 4; r++) all[r] = new int[] {pool.allocate(), pool.allocate()};
            int[] len = {5, 9, 7, 6};
            for (int i = 0; i < sizes.length; i++) {
                int rows = sizes[i];
                CudaBackend.Transfers before = be.transfers();
                int mark = dev.launches.size();
                try (Backend.Scope s = be.scope()) {
                    Tensor out = raggedStep(be, dec, pool, java.util.Arrays.copyOf(all, rows),
                            java.util.Arrays.copyOf(len, rows), i);
                    assertEquals(rows, out.dim(0), "the real rows' logits");
                    assertEquals(CudaStepPlanTest.VOCAB, out.dim(1));
                }
                CudaBackend.Transfers t = be.transfers().minus(before);
                if (i > 0) {
                    assertEquals(1, t.hostToDevice(), "step " + i + " (" + rows + " rows): " + t);
                    assertEquals(1, dev.count("graph_launch", mark), "step " + i + " (" + rows + " rows) replays the 4-row graph");
                    assertEquals(1, dev.launches.size() - mark, "and launches nothing else");
                }
                for (int r = 0; r < 4; r++) len[r]++;
            }
            assertEquals(1, be.graphStats()[0], "3 and 4 rows share one bucket: captured once");
            assertEquals(sizes.length - 1, be.graphStats()[1]);
        }
    }

    /** The logits of ragged paged steps of {@code sizes} rows on a device, graphs on or off. */
    private static float[][] raggedLogitsOnTheDevice(boolean graphs, int[] sizes) {
        String before = System.getProperty(CudaStepGraphs.PROPERTY);
        System.setProperty(CudaStepGraphs.PROPERTY, Boolean.toString(graphs));
        int layers = 2;
        try (CudaBackend be = new CudaBackend(0);
             dev.cortado.kv.KvPool pool = new dev.cortado.kv.KvPool(be, layers, CudaStepPlanTest.KV_HEADS, CudaStepPlanTest.HD, 8)) {
            TransformerDecoder dec = CudaStepPlanTest.decoder(be, layers, false, true);
            int[][] all = new int[4][];
            for (int r = 0; r < 4; r++) all[r] = new int[] {pool.allocate(), pool.allocate()};
            int[] len = {5, 9, 7, 6};
            float[][] out = new float[sizes.length][];
            for (int i = 0; i < sizes.length; i++) {
                try (Backend.Scope s = be.scope()) {
                    out[i] = be.toHost(raggedStep(be, dec, pool, java.util.Arrays.copyOf(all, sizes[i]),
                            java.util.Arrays.copyOf(len, sizes[i]), i));
                }
                for (int r = 0; r < 4; r++) len[r]++;
            }
            if (graphs) assertEquals(1, be.graphStats()[0], "one bucket for 3 and 4 rows");
            return out;
        } finally {
            if (before == null) System.clearProperty(CudaStepGraphs.PROPERTY);
            else System.setProperty(CudaStepGraphs.PROPERTY, before);
        }
    }

    /** On a device: padded replays give the real rows the logits of the unpadded eager steps. */
    @Test
    @org.junit.jupiter.api.Tag("gpu")
    void paddedReplaysGiveTheEagerLogitsOnTheDevice() {
        CudaBackendGpuTest.requireGpu();
        int[] sizes = {3, 4, 3, 3, 4, 3};
        float[][] eager = raggedLogitsOnTheDevice(false, sizes), graph = raggedLogitsOnTheDevice(true, sizes);
        for (int i = 0; i < sizes.length; i++) {
            assertEquals(eager[i].length, graph[i].length, "step " + i);
            for (int j = 0; j < eager[i].length; j++) assertEquals(eager[i][j], graph[i][j], 1e-5f, "step " + i + " logit " + j);
        }
    }

    @Test
    void paddingRowsAreInert() {
        int[][] blocks = {{3, 1}, {0, 2}, {5, 4}};
        KvView paged = KvView.paged(Tensor.of(new float[16], 16), 2, 16, 8, blocks);
        boolean[][] valid = new boolean[3][20];
        for (boolean[] v : valid) java.util.Arrays.fill(v, 0, 18, true);
        var meta = new dev.cortado.backend.StepMetadata(3, 1, new int[] {1, 2, 3}, null, new int[] {17, 12, 9},
                new dev.cortado.backend.StepMetadata.Attn(paged, 17, new int[] {17, 12, 9}, 18, new AttentionMask(valid, false, 0)), null);
        CudaStepGraphs.Bucket b = CudaStepGraphs.bucket(meta);
        assertEquals(4, b.rows(), "3 rows → the 4-row bucket");
        assertEquals(8, CudaStepGraphs.bucketRows(7));
        assertEquals(16, CudaStepGraphs.bucketRows(9));
        assertEquals(24, CudaStepGraphs.bucketRows(17));
        StepPlan padded = StepPlan.of(CudaStepGraphs.padRows(meta, 4), b.shape()), own = StepPlan.of(meta, b.shape());
        java.lang.foreign.MemorySegment p = java.lang.foreign.MemorySegment.ofArray(new byte[(int) padded.bytes()]);
        java.lang.foreign.MemorySegment o = java.lang.foreign.MemorySegment.ofArray(new byte[(int) own.bytes()]);
        padded.fill(p);
        own.fill(o);
        var I32 = Tensor.I32_LE;
        var I64 = Tensor.I64_LE;
        StepPlan.Section ps = padded.self(), os = own.self();
        for (int r = 0; r < 3; r++) {   // the real rows pack as they do unpadded
            assertEquals(o.get(I32, own.tokenIds() + 4L * r), p.get(I32, padded.tokenIds() + 4L * r));
            assertEquals(o.get(I32, own.ropePositions() + 4L * r), p.get(I32, padded.ropePositions() + 4L * r));
            assertEquals(o.get(I64, os.slots() + 8L * r), p.get(I64, ps.slots() + 8L * r));
            for (int j = 0; j < ps.maxBlocks(); j++)
                assertEquals(o.get(I32, os.table() + 4L * (r * os.maxBlocks() + j)), p.get(I32, ps.table() + 4L * (r * ps.maxBlocks() + j)));
            for (int j = 0; j < ps.kvLen(); j++)
                assertEquals(o.get(java.lang.foreign.ValueLayout.JAVA_BYTE, os.keyMask() + (long) r * os.kvLen() + j),
                        p.get(java.lang.foreign.ValueLayout.JAVA_BYTE, ps.keyMask() + (long) r * ps.kvLen() + j));
        }
        assertEquals(-1L, p.get(I64, ps.slots() + 8L * 3), "the padding row writes no key");
        for (int j = 0; j < ps.maxBlocks(); j++) assertEquals(0, p.get(I32, ps.table() + 4L * (3 * ps.maxBlocks() + j)), "reads block 0");
        assertEquals(0, p.get(I32, padded.tokenIds() + 12));
        assertEquals(1, p.get(java.lang.foreign.ValueLayout.JAVA_BYTE, ps.keyMask() + 3L * ps.kvLen()), "one valid key");
        for (int j = 1; j < ps.kvLen(); j++) assertEquals(0, p.get(java.lang.foreign.ValueLayout.JAVA_BYTE, ps.keyMask() + 3L * ps.kvLen() + j));
    }

    @Test
    void bucketsRoundTheKeyLengthUp() {
        assertEquals(1, CudaStepGraphs.roundUpPow2(1));
        assertEquals(4, CudaStepGraphs.roundUpPow2(3));
        assertEquals(8, CudaStepGraphs.roundUpPow2(8));
        int[][] blocks = {{3, 1, 4}, {0, 2}};
        KvView paged = KvView.paged(Tensor.of(new float[16], 16), 2, 16, 8, blocks);
        var meta = new dev.cortado.backend.StepMetadata(2, 1, new int[] {1, 2}, null, new int[] {40, 20},
                new dev.cortado.backend.StepMetadata.Attn(paged, 40, new int[] {40, 20}, 41, new AttentionMask(null, false, 0)), null);
        CudaStepGraphs.Bucket b = CudaStepGraphs.bucket(meta);
        assertEquals(4, b.shape().selfBlocks(), "3 blocks → a 4-block bucket");
        assertEquals(64, b.shape().selfKvLen());
        StepPlan p = StepPlan.of(meta, b.shape());
        assertEquals(4, p.self().maxBlocks());
        assertEquals(64, p.self().kvLen());
    }

    @Test
    void aRefusedCaptureRunsEagerly() {
        int layers = 2;
        RecordingDevice dev = new RecordingDevice(RecordingDevice.Capture.REFUSE);
        try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
            TransformerDecoder dec = CudaStepPlanTest.decoder(be, layers, false, true);
            List<StepCost> c = run(be, dev, dec, layers, 2, 4, false);
            assertEquals(0, be.graphStats()[0]);
            for (StepCost s : c.subList(1, c.size())) {
                assertEquals(0, s.graphLaunches());
                assertTrue(s.kernels() > layers, "eager: " + s);
                assertEquals(1, s.hostToDevice(), "still one upload per step: " + s);
                assertTrue(s.hasLogits());
            }
        }
    }

    @Test
    void graphsCanBeTurnedOff() {
        String before = System.getProperty(CudaStepGraphs.PROPERTY);
        System.setProperty(CudaStepGraphs.PROPERTY, "false");
        RecordingDevice dev = new RecordingDevice(RecordingDevice.Capture.RECORD);
        try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
            TransformerDecoder dec = CudaStepPlanTest.decoder(be, 2, false, true);
            List<StepCost> c = run(be, dev, dec, 2, 2, 3, false);
            assertTrue(c.subList(1, c.size()).stream().allMatch(s -> s.graphLaunches() == 0 && s.kernels() > 0 && s.hostToDevice() == 1), c.toString());
            assertTrue(dev.captured.isEmpty());
        } finally {
            if (before == null) System.clearProperty(CudaStepGraphs.PROPERTY);
            else System.setProperty(CudaStepGraphs.PROPERTY, before);
        }
    }
}
