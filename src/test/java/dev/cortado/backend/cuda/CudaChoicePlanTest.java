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
 * processors and a beam step each make one host → device copy (the packed row parameters) and one device → host
 * copy of 2 · rows values (ids, log-probabilities) or 3 · groups · 2·beams values (candidates, source beams, scores),
 * never rows × vocab logits; the processors, the draw and the top-k run as kernels.
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
