package dev.cortado.backend.cuda;

import static dev.cortado.backend.cuda.KernelLauncher.args;
import static dev.cortado.backend.cuda.KernelLauncher.suffix;

import dev.cortado.tensor.DType;

/**
 * Token selection and logits processors on the device (kernels/sampling.cu, logits.cu); logits are [rows, vocab].
 * Host chain order: {@link #logitBias}, {@link #repetitionPenalty}, {@link #countPenalty}, bans / {@link #suppressTokens},
 * then {@link #temperature}, then {@link #sample} (top-k, top-p, min-p, typical-p) or {@link #argmax}.
 */
public final class SamplingKernels {
    private final KernelLauncher launcher;

    SamplingKernels(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    /** outI32[r] = first index of the row maximum (torch.argmax); NaN ignored. */
    public void argmax(DType t, long outI32, long logits, int rows, int vocab, CudaStream s) {
        launcher.launch("argmax_" + suffix(t), rows, 1, 1, 1024, 0, s,
                args().ptr(outI32).ptr(logits).i32(rows).i32(vocab));
    }

    /**
     * Samples one token per row with HF top-k then top-p semantics, by inverse CDF with uniforms[r] in [0, 1).
     *
     * @param topKs int32 [rows] per-row k (0: use topK); k <= 0 or >= vocab disables top-k
     * @param topPs f32 [rows] per-row p (0: use topP); p >= 1 disables top-p
     */
    public void sample(DType t, long outI32, long logits, long uniforms, long topKs, long topPs, int rows, int vocab,
                       int topK, float topP, CudaStream s) {
        sample(t, outI32, logits, uniforms, topKs, topPs, 0, 0, rows, vocab, topK, topP, s);
    }

    /**
     * {@link #sample} with min-p and typical-p after top-p (HF order), min_tokens_to_keep 1.
     *
     * @param minPs     f32 [rows] per-row min-p (0 pointer or value 0: off): keeps p ≥ min_p · p_max
     * @param typicalPs f32 [rows] per-row typical-p mass (0 pointer or value ≥ 1: off)
     */
    public void sample(DType t, long outI32, long logits, long uniforms, long topKs, long topPs, long minPs,
                       long typicalPs, int rows, int vocab, int topK, float topP, CudaStream s) {
        launcher.launch("sample_" + suffix(t), rows, 1, 1, 1024, 0, s, args().ptr(outI32).ptr(logits).ptr(uniforms)
                .ptr(topKs).ptr(topPs).ptr(minPs).ptr(typicalPs).i32(rows).i32(vocab).i32(topK).f32(topP));
    }

    /** logits[r, ids[r * stride + i]] += values[r * stride + i] for i < n (per-row distinct ids, -1 pads); block per row. */
    public void logitBias(DType t, long logits, long ids, long valuesF32, int rows, int vocab, int n, long stride,
                          CudaStream s) {
        launcher.launch("logit_bias_" + suffix(t), rows, 1, 1, 256, 0, s,
                args().ptr(logits).ptr(ids).ptr(valuesF32).i32(rows).i32(vocab).i32(n).i64(stride));
    }

    /**
     * OpenAI presence / frequency penalties: logits[r, ids[r * stride + i]] -= presences[r] + frequencies[r] ·
     * counts[r * stride + i] for i < n (per-row distinct ids, -1 pads); one block per row.
     */
    public void countPenalty(DType t, long logits, long ids, long countsI32, long presencesF32, long frequenciesF32,
                             int rows, int vocab, int n, long stride, CudaStream s) {
        launcher.launch("count_penalty_" + suffix(t), rows, 1, 1, 256, 0, s, args().ptr(logits).ptr(ids)
                .ptr(countsI32).ptr(presencesF32).ptr(frequenciesF32).i32(rows).i32(vocab).i32(n).i64(stride));
    }

    /** logits[r, :] /= temps[r] (temps 0: temperature for every row); rows with t <= 0 or t == 1 unchanged. */
    public void temperature(DType t, long logits, long temps, int rows, int vocab, float temperature, CudaStream s) {
        launcher.launch("temperature_" + suffix(t), launcher.gridFor((long) rows * vocab), 1, 1, 256, 0, s,
                args().ptr(logits).ptr(temps).i32(rows).i32(vocab).f32(temperature));
    }

    /** seen[r, ids[r * idsStride + i]] = 1 for i < n (uint8 [rows, vocab] presence mask; ids < 0 skipped). */
    public void markTokens(long seen, long ids, int rows, int vocab, int n, long idsStride, CudaStream s) {
        launcher.launch("mark_tokens", launcher.gridFor((long) rows * n), 1, 1, 256, 0, s,
                args().ptr(seen).ptr(ids).i32(rows).i32(vocab).i32(n).i64(idsStride));
    }

    /** HF repetition penalty for every token marked in {@code seen}: l < 0 ? l * p : l / p (penalties 0: penalty). */
    public void repetitionPenalty(DType t, long logits, long seen, long penalties, int rows, int vocab, float penalty,
                                  CudaStream s) {
        launcher.launch("repetition_penalty_" + suffix(t), launcher.gridFor((long) rows * vocab), 1, 1, 256, 0, s,
                args().ptr(logits).ptr(seen).ptr(penalties).i32(rows).i32(vocab).f32(penalty));
    }

    /** logits[r, ids[i]] = -inf for i < n in every row (ids int32 [n]). */
    public void suppressTokens(DType t, long logits, long ids, int n, int rows, int vocab, CudaStream s) {
        launcher.launch("suppress_tokens_" + suffix(t), launcher.gridFor((long) rows * n), 1, 1, 256, 0, s,
                args().ptr(logits).ptr(ids).i32(n).i32(rows).i32(vocab));
    }

    /** out[r] = log_softmax(logits[r, :])[ids[r]] in fp32 (NaN for ids[r] < 0): one value per row comes back. */
    public void chosenLogprob(DType t, long outF32, long logits, long idsI32, int rows, int vocab, CudaStream s) {
        launcher.launch("chosen_logprob_" + suffix(t), rows, 1, 1, 1024, 0, s,
                args().ptr(outF32).ptr(logits).ptr(idsI32).i32(rows).i32(vocab));
    }

    /** Repetition penalty for per-row id lists ids[r * stride + i], i < n (distinct per row, -1 pads), p = penalties[r]. */
    public void repetitionPenaltyIds(DType t, long logits, long ids, long penalties, int rows, int vocab, int n,
                                     long stride, CudaStream s) {
        launcher.launch("repetition_penalty_ids_" + suffix(t), launcher.gridFor((long) rows * n), 1, 1, 256, 0, s,
                args().ptr(logits).ptr(ids).ptr(penalties).i32(rows).i32(vocab).i32(n).i64(stride));
    }

    /** logits[r, ids[r * stride + i]] = -inf for i < n (per-row lists, -1 pads). */
    public void banTokens(DType t, long logits, long ids, int rows, int vocab, int n, long stride, CudaStream s) {
        launcher.launch("ban_tokens_" + suffix(t), launcher.gridFor((long) rows * n), 1, 1, 256, 0, s,
                args().ptr(logits).ptr(ids).i32(rows).i32(vocab).i32(n).i64(stride));
    }

    /**
     * Beam top-k: per group of {@code beams} rows of fp32 log-probabilities lp, the k best lp[b, v] + scores[row],
     * best first (lower b · vocab + v first among equals) into ids / src (int32) and values (f32), [groups, k] each.
     */
    public void beamTopK(long outIds, long outSrc, long outScores, long lpF32, long scoresF32, int groups, int beams,
                         int vocab, int k, CudaStream s) {
        launcher.launch("beam_topk", groups, 1, 1, 1024, 0, s, args().ptr(outIds).ptr(outSrc).ptr(outScores)
                .ptr(lpF32).ptr(scoresF32).i32(beams).i32(vocab).i32(k));
    }
}
