package dev.cortado.backend.cuda;

import static dev.cortado.backend.cuda.CudaMemory.cols;
import static dev.cortado.backend.cuda.CudaMemory.rows;

import dev.cortado.backend.Choices;
import dev.cortado.backend.Greedy;
import dev.cortado.backend.TokenChoice;
import dev.cortado.backend.TokenChoice.DeviceRow;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;

/**
 * Token choice on the CUDA backend (kernels/sampling.cu, logits.cu, softmax.cu): the declarative processors
 * (repetition penalty, bans, temperature), then argmax, a top-k / top-p draw or beam top-k, and each pick's raw
 * log-probability, all on the device. Per step one host → device copy (the rows' parameters and id lists, packed)
 * and one device → host copy: 2 · rows values (ids, log-probabilities), or 3 · groups · k for beams (ids, source
 * beams, scores), never rows × vocab logits. Choices the device cannot make (host-only processors, top
 * alternatives, warpers inside beam search) are {@link #supports rejected}; the backend then chooses on the host.
 */
final class CudaSampling {
    private final CudaMemory mem;
    private final Kernels kernels;

    CudaSampling(CudaMemory mem, Kernels kernels) {
        this.mem = mem;
        this.kernels = kernels;
    }

    Greedy greedy(Tensor logits) {
        int rows = rows(logits), vocab = cols(logits);
        long l = mem.ptr(logits);
        try (DeviceMemory out = mem.raw(8L * rows)) {
            kernels.sampling().argmax(logits.dtype(), out.address(), l, rows, vocab, null);
            kernels.sampling().chosenLogprob(logits.dtype(), out.address() + 4L * rows, l, out.address(), rows, vocab, null);
            int[] both = mem.downloadInts(out.address(), 2 * rows);
            int[] id = java.util.Arrays.copyOf(both, rows);
            float[] lp = new float[rows];
            for (int r = 0; r < rows; r++) {
                if (id[r] < 0 || id[r] >= vocab) throw new IllegalStateException("argmax kernel returned " + id[r] + " for a vocabulary of " + vocab);
                lp[r] = Float.intBitsToFloat(both[rows + r]);
            }
            return new Greedy(id, lp);
        }
    }

    /** Whether {@link #choose} can make this choice on the device. */
    boolean supports(Tensor logits, TokenChoice c) {
        if (!c.onDevice() || logits.dtype() != mem.compute) return false;
        if (c.mode() != TokenChoice.Mode.BEAM || c.processors() == null) return true;
        for (int r = 0; r < rows(logits); r++) {   // beam search with warpers (sampling beams): the host does it
            if (!c.isActive(r)) continue;
            DeviceRow d = c.device().apply(r);
            if (d.temperature() != 1f || d.topK() != 0 || d.topP() < 1f) return false;
        }
        return true;
    }

    Choices choose(Tensor logits, TokenChoice c) {
        int rows = rows(logits), vocab = cols(logits);
        if (c.mode() == TokenChoice.Mode.GREEDY && c.processors() == null) {   // nothing to upload
            Choices g = Choices.of(greedy(logits));
            for (int r = 0; r < rows; r++) {
                if (c.isActive(r)) continue;
                g.ids()[r] = -1;
                g.logprobs()[r] = Float.NaN;
            }
            return g;
        }
        DeviceRow[] dr = new DeviceRow[rows];
        int seenW = 0, banW = 0;
        for (int r = 0; r < rows; r++) {
            dr[r] = c.processors() == null || !c.isActive(r) ? DeviceRow.NONE : c.device().apply(r);
            if (dr[r].repetitionPenalty() != 1f) seenW = Math.max(seenW, dr[r].seen().length);
            banW = Math.max(banW, dr[r].banned().length);
        }
        boolean beam = c.mode() == TokenChoice.Mode.BEAM;
        // one packed upload: [penalties][temps | beam scores][topPs][uniforms][topKs][seen rows×seenW][banned rows×banW]
        int fields = beam ? 2 : 5;
        int[] packed = new int[rows * (fields + seenW + banW)];
        java.util.Arrays.fill(packed, rows * fields, packed.length, -1);
        for (int r = 0; r < rows; r++) {
            DeviceRow d = dr[r];
            packed[r] = Float.floatToRawIntBits(d.repetitionPenalty());
            if (beam) {
                packed[rows + r] = Float.floatToRawIntBits(c.beamScores()[r]);
            } else {
                packed[rows + r] = Float.floatToRawIntBits(d.temperature());
                packed[2 * rows + r] = Float.floatToRawIntBits(d.topP());
                float u = c.mode() == TokenChoice.Mode.SAMPLE && c.isActive(r)
                        ? (float) c.uniforms().apply(r).getAsDouble() : 0f;
                packed[3 * rows + r] = Float.floatToRawIntBits(u);
                packed[4 * rows + r] = d.topK();
            }
            if (d.repetitionPenalty() != 1f) System.arraycopy(d.seen(), 0, packed, rows * fields + r * seenW, d.seen().length);
            System.arraycopy(d.banned(), 0, packed, rows * (fields + seenW) + r * banW, d.banned().length);
        }
        try (DeviceMemory params = mem.uploadInts(packed)) {
            long p = params.address(), seen = p + 4L * rows * fields, banned = seen + 4L * rows * seenW;
            return beam ? perGroup(logits, c, rows, vocab, p, seen, seenW, banned, banW)
                    : perRow(logits, c, rows, vocab, p, seen, seenW, banned, banW, dr);
        }
    }

    private Choices perRow(Tensor logits, TokenChoice c, int rows, int vocab, long p, long seen, int seenW, long banned,
                         int banW, DeviceRow[] dr) {
        DType t = logits.dtype();
        long l = mem.ptr(logits);
        boolean temps = false;
        for (DeviceRow d : dr) temps |= d.temperature() != 1f;
        boolean edit = seenW > 0 || banW > 0 || temps;
        Tensor work = edit ? mem.allocate(t, rows, vocab) : null;
        try (DeviceMemory out = mem.raw(8L * rows)) {
            long w = l;
            if (work != null) {
                mem.copy(logits, 0, work, 0, (long) rows * vocab * mem.esize);
                w = mem.ptr(work);
            }
            if (seenW > 0) kernels.sampling().repetitionPenaltyIds(t, w, seen, p, rows, vocab, seenW, seenW, null);
            if (banW > 0) kernels.sampling().banTokens(t, w, banned, rows, vocab, banW, banW, null);
            if (c.mode() == TokenChoice.Mode.SAMPLE) {
                if (temps) kernels.sampling().temperature(t, w, p + 4L * rows, rows, vocab, 1f, null);
                kernels.sampling().sample(t, out.address(), w, p + 12L * rows, p + 16L * rows, p + 8L * rows, rows,
                        vocab, 0, 1f, null);
            } else {
                kernels.sampling().argmax(t, out.address(), w, rows, vocab, null);
            }
            kernels.sampling().chosenLogprob(t, out.address() + 4L * rows, l, out.address(), rows, vocab, null);
            int[] both = mem.downloadInts(out.address(), 2 * rows);
            int[] ids = java.util.Arrays.copyOf(both, rows);
            float[] lps = new float[rows];
            for (int r = 0; r < rows; r++) {
                if (!c.isActive(r)) {
                    ids[r] = -1;
                    lps[r] = Float.NaN;
                } else {
                    lps[r] = Float.intBitsToFloat(both[rows + r]);
                }
            }
            return new Choices(ids, lps, null, null, null, null);
        } finally {
            if (work != null) mem.free(work);
        }
    }

    private Choices perGroup(Tensor logits, TokenChoice c, int rows, int vocab, long p, long seen, int seenW,
                          long banned, int banW) {
        int beams = c.beams(), k = c.candidates();
        if (rows % beams != 0) throw new IllegalArgumentException(rows + " rows are not groups of " + beams + " beams");
        if (k > beams * vocab) throw new IllegalArgumentException(k + " candidates of " + beams * vocab);
        int groups = rows / beams, n = groups * k;
        try (DeviceMemory lp = mem.raw(4L * rows * vocab); DeviceMemory out = mem.raw(12L * n)) {
            long a = lp.address(), o = out.address();
            kernels.logSoftmax(logits.dtype(), a, mem.ptr(logits), rows, vocab, null);
            if (seenW > 0) kernels.sampling().repetitionPenaltyIds(DType.F32, a, seen, p, rows, vocab, seenW, seenW, null);
            if (banW > 0) kernels.sampling().banTokens(DType.F32, a, banned, rows, vocab, banW, banW, null);
            kernels.sampling().beamTopK(o, o + 4L * n, o + 8L * n, a, p + 4L * rows, groups, beams, vocab, k, null);
            int[] all = mem.downloadInts(o, 3 * n);
            int[] ids = java.util.Arrays.copyOf(all, n), src = java.util.Arrays.copyOfRange(all, n, 2 * n);
            float[] scores = new float[n], lps = new float[n];
            java.util.Arrays.fill(lps, Float.NaN);   // raw log-probabilities of candidates: only with top alternatives (host)
            for (int i = 0; i < n; i++) {
                scores[i] = Float.intBitsToFloat(all[2 * n + i]);
                if (!c.isActive((i / k) * beams)) {
                    ids[i] = src[i] = -1;
                    scores[i] = Float.NaN;
                }
            }
            return new Choices(ids, lps, src, scores, null, null);
        }
    }
}
