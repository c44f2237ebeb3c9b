package dev.cortado.backend.cuda;

import static dev.cortado.backend.cuda.CudaMemory.cols;
import static dev.cortado.backend.cuda.CudaMemory.rows;

import dev.cortado.backend.Choices;
import dev.cortado.backend.Greedy;
import dev.cortado.backend.TokenChoice;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;

/**
 * Token choice on the CUDA backend (kernels/sampling.cu, logits.cu, softmax.cu): the declarative processors in
 * the host chain's order (logit bias, repetition penalty, presence/frequency penalties, bans, temperature), then
 * argmax, a top-k / top-p / min-p / typical-p draw or beam top-k, and each pick's raw log-probability, all on the
 * device. Per step one host → device copy (the rows' parameters and id lists, packed: {@link CudaSamplingParams}) and
 * one device → host copy: 2 · rows values (ids, log-probabilities), or 3 · groups · k for beams (ids, source
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
            if (c.isActive(r) && c.device().apply(r).warps()) return false;
        }
        return true;
    }

    Choices choose(Tensor logits, TokenChoice c) {
        int rows = rows(logits), vocab = cols(logits);
        if (c.mode() == TokenChoice.Mode.GREEDY && c.processors() == null) {   // nothing to upload
            return Choices.greedy(greedy(logits), c);
        }
        CudaSamplingParams sp = CudaSamplingParams.pack(c, CudaSamplingParams.rows(c, rows), vocab);
        try (DeviceMemory params = mem.uploadInts(sp.packed)) {   // the step's one upload
            return c.mode() == TokenChoice.Mode.BEAM ? perGroup(logits, c, rows, vocab, sp, params.address())
                    : perRow(logits, c, rows, vocab, sp, params.address());
        }
    }

    /**
     * The processors in the host chain's order on scores w (fp32 log-softmax for beams, a copy of the logits
     * otherwise): logit bias, repetition penalty, presence/frequency, bans; temperature is the caller's.
     */
    private void process(DType t, long w, CudaSamplingParams sp, long p, int rows, int vocab) {
        SamplingKernels k = kernels.sampling();
        if (sp.biasW > 0) k.logitBias(t, w, p + 4L * sp.biasIds(), p + 4L * sp.biasValues(), rows, vocab, sp.biasW,
                sp.biasW, null);
        if (sp.seenW > 0) k.repetitionPenaltyIds(t, w, p + 4L * sp.seen(), p + sp.column(CudaSamplingParams.PENALTY), rows,
                vocab, sp.seenW, sp.seenW, null);
        if (sp.counts) k.countPenalty(t, w, p + 4L * sp.countIds(), p + 4L * sp.counts(),
                p + sp.column(CudaSamplingParams.PRESENCE), p + sp.column(CudaSamplingParams.FREQUENCY), rows, vocab, sp.countW,
                sp.countW, null);
        if (sp.banW > 0) k.banTokens(t, w, p + 4L * sp.banned(), rows, vocab, sp.banW, sp.banW, null);
    }

    private Choices perRow(Tensor logits, TokenChoice c, int rows, int vocab, CudaSamplingParams sp, long p) {
        DType t = logits.dtype();
        long l = mem.ptr(logits);
        Tensor work = sp.edits() ? mem.allocate(t, rows, vocab) : null;
        try (DeviceMemory out = mem.raw(8L * rows)) {
            long w = l;
            if (work != null) {
                mem.copy(logits, 0, work, 0, (long) rows * vocab * mem.esize);
                w = mem.ptr(work);
            }
            process(t, w, sp, p, rows, vocab);
            if (c.mode() == TokenChoice.Mode.SAMPLE) {
                if (sp.temperatures) kernels.sampling().temperature(t, w, p + sp.column(CudaSamplingParams.TEMPERATURE),
                        rows, vocab, 1f, null);
                kernels.sampling().sample(t, out.address(), w, p + sp.column(CudaSamplingParams.UNIFORM),
                        p + sp.column(CudaSamplingParams.TOP_K), p + sp.column(CudaSamplingParams.TOP_P),
                        sp.minP ? p + sp.column(CudaSamplingParams.MIN_P) : 0,
                        sp.typicalP ? p + sp.column(CudaSamplingParams.TYPICAL_P) : 0, rows, vocab, 0, 1f, null);
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

    private Choices perGroup(Tensor logits, TokenChoice c, int rows, int vocab, CudaSamplingParams sp, long p) {
        int beams = c.beams(), k = c.candidates();
        if (rows % beams != 0) throw new IllegalArgumentException(rows + " rows are not groups of " + beams + " beams");
        if (k > beams * vocab) throw new IllegalArgumentException(k + " candidates of " + beams * vocab);
        int groups = rows / beams, n = groups * k;
        try (DeviceMemory lp = mem.raw(4L * rows * vocab); DeviceMemory out = mem.raw(12L * n)) {
            long a = lp.address(), o = out.address();
            kernels.logSoftmax(logits.dtype(), a, mem.ptr(logits), rows, vocab, null);
            process(DType.F32, a, sp, p, rows, vocab);
            kernels.sampling().beamTopK(o, o + 4L * n, o + 8L * n, a, p + sp.column(CudaSamplingParams.BEAM_SCORE), groups,
                    beams, vocab, k, null);
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
