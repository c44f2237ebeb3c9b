package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.Choices;
import dev.cortado.backend.TokenChoice;
import dev.cortado.backend.TokenChoice.DeviceRow;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The CUDA token choice's transfers, checked without a device ({@link RecordingDevice}): a sampled step with
 * processors (every processor with a device form: logit bias, repetition / presence / frequency penalties, bans,
 * temperature, top-k, top-p, min-p, typical-p), a greedy and a beam step each make one host → device copy (the
 * packed row parameters, {@link CudaSamplingParams}, whose size is checked) and one device → host copy of 2 · rows
 * values (ids, log-probabilities) or 3 · groups · 2·beams values (candidates, source beams, scores), never rows ×
 * vocab logits; the processors, the draw and the top-k run as kernels.
 */
class CudaChoicePlanTest {
    static final int VOCAB = 50_000;

    static final DeviceRow ROW = new DeviceRow(1.3f, new int[] {5, 9, 11}, new int[] {7}, 0.7f, 40, 0.9f);

    @Test
    void sampledStepDownloadsRowsValues() {
        RecordingDevice dev = new RecordingDevice();
        try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
            int rows = 4;
            Tensor logits = be.allocate(DType.F32, rows, VOCAB);
            TokenChoice c = TokenChoice.sample((r, s) -> { throw new AssertionError("host processors ran"); },
                    r -> ROW, r -> () -> 0.5, null, -1);
            CudaBackend.Transfers before = be.transfers();
            int from = dev.launches.size();
            long bytes = dev.downloadedBytes;
            Choices got = be.choose(logits, c);
            CudaBackend.Transfers t = be.transfers().minus(before);
            assertEquals(1, t.hostToDevice(), "one packed upload of the rows' parameters");
            assertEquals(1, t.deviceToHost(), "one download");
            assertEquals(2L * rows * 4, dev.downloadedBytes - bytes, "ids and log-probabilities: 2 · rows values");
            assertEquals(rows, got.ids().length);
            for (String k : new String[] {"repetition_penalty_ids_f32", "ban_tokens_f32", "temperature_f32",
                    "sample_f32", "chosen_logprob_f32"})
                assertEquals(1, dev.count(k, from), k);
        }
    }

    @Test
    void beamStepDownloadsTwoBeamsCandidatesPerGroup() {
        RecordingDevice dev = new RecordingDevice();
        try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
            int beams = 4, groups = 2, rows = beams * groups, k = 2 * beams;
            Tensor logits = be.allocate(DType.F32, rows, VOCAB);
            DeviceRow penalty = new DeviceRow(1.2f, new int[] {3, 4}, new int[] {1, 2}, 1f, 0, 1f);
            TokenChoice c = TokenChoice.beam((r, s) -> { throw new AssertionError("host processors ran"); },
                    r -> penalty, null, beams, k, new float[rows], -1);
            CudaBackend.Transfers before = be.transfers();
            int from = dev.launches.size();
            long bytes = dev.downloadedBytes;
            Choices got = be.choose(logits, c);
            CudaBackend.Transfers t = be.transfers().minus(before);
            assertEquals(1, t.hostToDevice());
            assertEquals(1, t.deviceToHost());
            assertEquals(3L * groups * k * 4, dev.downloadedBytes - bytes, "ids, sources, scores of 2·beams per group");
            assertTrue(dev.downloadedBytes - bytes < (long) rows * VOCAB, "no logits come back");
            assertEquals(groups * k, got.ids().length);
            assertEquals(1, dev.count("beam_topk", from));
            assertEquals(1, dev.count("log_softmax_f32", from));
        }
    }

    /** Every processor with a device form on, rows of different list lengths (the lists pad to the widest row). */
    static DeviceRow everything(int r) {
        int[] countIds = new int[r + 1], counts = new int[r + 1];
        for (int i = 0; i <= r; i++) {
            countIds[i] = 100 + i;
            counts[i] = i + 1;
        }
        return new DeviceRow(new int[] {3, 44_000}, new float[] {2.5f, -1f}, 1.3f, new int[] {5, 9, 11}, 0.4f, 0.25f,
                countIds, counts, new int[] {7, 8}, 0.7f, 40, 0.9f, 0.05f, 0.95f);
    }

    @Test
    void sampledStepWithEveryProcessorIsOneUploadAndOneDownload() {
        RecordingDevice dev = new RecordingDevice();
        try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
            int rows = 4;
            Tensor logits = be.allocate(DType.F32, rows, VOCAB);
            TokenChoice c = TokenChoice.sample((r, s) -> { throw new AssertionError("host processors ran"); },
                    CudaChoicePlanTest::everything, r -> () -> 0.5, null, -1);
            CudaBackend.Transfers before = be.transfers();
            int from = dev.launches.size();
            long bytes = dev.downloadedBytes;
            Choices got = be.choose(logits, c);
            CudaBackend.Transfers t = be.transfers().minus(before);
            assertEquals(1, t.hostToDevice(), "one packed upload of the rows' parameters");
            int seenW = 3, banW = 2, biasW = 2, countW = rows;   // the widest row's lists
            assertEquals(4L * rows * (CudaSamplingParams.COLUMNS + seenW + banW + 2 * biasW + 2 * countW),
                    t.hostToDeviceBytes(), "9 columns + seen + banned + (id, bias) + (id, count) pairs per row");
            assertEquals(1, t.deviceToHost(), "one download");
            assertEquals(2L * rows * 4, dev.downloadedBytes - bytes, "ids and log-probabilities: 2 · rows values");
            assertEquals(rows, got.ids().length);
            for (String k : new String[] {"logit_bias_f32", "repetition_penalty_ids_f32", "count_penalty_f32",
                    "ban_tokens_f32", "temperature_f32", "sample_f32", "chosen_logprob_f32"})
                assertEquals(1, dev.count(k, from), k);
            assertEquals(7, dev.launches.size() - from, "no other kernel");
        }
    }

    @Test
    void packedParametersFollowTheDocumentedLayout() {
        int rows = 3;
        TokenChoice c = TokenChoice.sample((r, s) -> {}, CudaChoicePlanTest::everything, r -> () -> 0.25, null, -1);
        CudaSamplingParams p = CudaSamplingParams.pack(c, CudaSamplingParams.rows(c, rows), VOCAB);
        int[] a = p.packed;
        for (int r = 0; r < rows; r++) {
            DeviceRow d = everything(r);
            assertEquals(1.3f, Float.intBitsToFloat(a[CudaSamplingParams.PENALTY * rows + r]));
            assertEquals(0.7f, Float.intBitsToFloat(a[CudaSamplingParams.TEMPERATURE * rows + r]));
            assertEquals(0.25f, Float.intBitsToFloat(a[CudaSamplingParams.UNIFORM * rows + r]));
            assertEquals(40, a[CudaSamplingParams.TOP_K * rows + r]);
            assertEquals(0.4f, Float.intBitsToFloat(a[CudaSamplingParams.PRESENCE * rows + r]));
            assertEquals(0.25f, Float.intBitsToFloat(a[CudaSamplingParams.FREQUENCY * rows + r]));
            assertEquals(0.05f, Float.intBitsToFloat(a[CudaSamplingParams.MIN_P * rows + r]));
            assertEquals(0.95f, Float.intBitsToFloat(a[CudaSamplingParams.TYPICAL_P * rows + r]));
            assertEquals(44_000, a[p.biasIds() + r * p.biasW + 1]);
            assertEquals(-1f, Float.intBitsToFloat(a[p.biasValues() + r * p.biasW + 1]));
            for (int i = 0; i < p.countW; i++) {
                assertEquals(i < d.countIds().length ? d.countIds()[i] : -1, a[p.countIds() + r * p.countW + i]);
                assertEquals(i < d.counts().length ? d.counts()[i] : -1, a[p.counts() + r * p.countW + i]);
            }
        }
        assertEquals(a.length, p.counts() + rows * p.countW, "the counts close the upload");
    }

    @Test
    void greedyStepWithBiasAndPresencePenaltiesStaysOnTheDevice() {
        RecordingDevice dev = new RecordingDevice();
        try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
            int rows = 2;
            Tensor logits = be.allocate(DType.F32, rows, VOCAB);
            DeviceRow d = new DeviceRow(new int[] {1}, new float[] {3f}, 1f, new int[0], 0.5f, 0f, new int[] {4, 6},
                    new int[] {2, 1}, new int[0], 1f, 0, 1f, 0f, 1f);
            TokenChoice c = TokenChoice.greedy((r, s) -> { throw new AssertionError("host processors ran"); }, r -> d,
                    null, -1);
            CudaBackend.Transfers before = be.transfers();
            int from = dev.launches.size();
            long bytes = dev.downloadedBytes;
            be.choose(logits, c);
            CudaBackend.Transfers t = be.transfers().minus(before);
            assertEquals(1, t.hostToDevice());
            assertEquals(4L * rows * (CudaSamplingParams.COLUMNS + 2 + 2 * 2), t.hostToDeviceBytes());
            assertEquals(1, t.deviceToHost());
            assertEquals(2L * rows * 4, dev.downloadedBytes - bytes);
            for (String k : new String[] {"logit_bias_f32", "count_penalty_f32", "argmax_f32", "chosen_logprob_f32"})
                assertEquals(1, dev.count(k, from), k);
            assertEquals(0, dev.count("repetition_penalty_ids_f32", from) + dev.count("ban_tokens_f32", from)
                    + dev.count("temperature_f32", from), "processors that are off launch nothing");
        }
    }

    @Test
    void beamStepWithBiasAndCountsStaysOnTheDevice() {
        RecordingDevice dev = new RecordingDevice();
        try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
            int beams = 3, groups = 2, rows = beams * groups, k = 2 * beams;
            Tensor logits = be.allocate(DType.F32, rows, VOCAB);
            DeviceRow d = new DeviceRow(new int[] {1}, new float[] {-2f}, 1f, new int[0], 0f, 0.5f, new int[] {4},
                    new int[] {3}, new int[0], 1f, 0, 1f, 0f, 1f);
            TokenChoice c = TokenChoice.beam((r, s) -> { throw new AssertionError("host processors ran"); }, r -> d,
                    null, beams, k, new float[rows], -1);
            CudaBackend.Transfers before = be.transfers();
            int from = dev.launches.size();
            long bytes = dev.downloadedBytes;
            be.choose(logits, c);
            CudaBackend.Transfers t = be.transfers().minus(before);
            assertEquals(1, t.hostToDevice());
            assertEquals(1, t.deviceToHost());
            assertEquals(3L * groups * k * 4, dev.downloadedBytes - bytes);
            for (String kn : new String[] {"log_softmax_f32", "logit_bias_f32", "count_penalty_f32", "beam_topk"})
                assertEquals(1, dev.count(kn, from), kn);
        }
    }

    @Test
    void beamWarpersStayOnTheHost() {
        RecordingDevice dev = new RecordingDevice();
        try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
            int beams = 2, rows = beams, k = 2 * beams;
            Tensor logits = be.allocate(DType.F32, rows, 100);
            DeviceRow d = new DeviceRow(new int[0], new float[0], 1f, new int[0], 0f, 0f, new int[0], new int[0],
                    new int[0], 1f, 0, 1f, 0.1f, 1f);
            int[] ran = new int[1];
            TokenChoice c = TokenChoice.beam((r, s) -> ran[0]++, r -> d, null, beams, k, new float[rows], -1);
            be.choose(logits, c);
            assertEquals(rows, ran[0], "min-p inside beam search: the host chain ran on each row");
        }
    }

    @Test
    void biasBeyondTheVocabularyIsOneClearError() {
        RecordingDevice dev = new RecordingDevice();
        try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
            Tensor logits = be.allocate(DType.F32, 1, 100);
            DeviceRow d = new DeviceRow(new int[] {100}, new float[] {1f}, 1f, new int[0], 0f, 0f, new int[0],
                    new int[0], new int[0], 1f, 0, 1f, 0f, 1f);
            TokenChoice c = TokenChoice.greedy((r, s) -> {}, r -> d, null, -1);
            var e = org.junit.jupiter.api.Assertions.assertThrows(dev.cortado.CortadoException.class,
                    () -> be.choose(logits, c));
            assertEquals("bias for token 100 but the model's vocabulary has 100 tokens", e.getMessage());
        }
    }

    @Test
    void hostOnlyProcessorsFallBackToTheHost() {
        RecordingDevice dev = new RecordingDevice();
        try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
            Tensor logits = be.allocate(DType.F32, 2, 100);
            int[] ran = new int[1];
            TokenChoice c = TokenChoice.greedy((r, s) -> ran[0]++, null, null, -1);
            CudaBackend.Transfers before = be.transfers();
            be.choose(logits, c);
            assertEquals(2, ran[0], "the host chain ran on each row");
            assertEquals(1, be.transfers().minus(before).deviceToHost(), "the logits came back once");
        }
    }
}
