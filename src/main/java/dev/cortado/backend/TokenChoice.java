package dev.cortado.backend;

import java.util.function.DoubleSupplier;
import java.util.function.IntFunction;

/**
 * One step's token choice over logits [rows, vocab] ({@link Backend#choose}): the logits processors, then a greedy
 * argmax, a seeded draw, or beam top-k over beams × vocab with the running beam scores. The host gets back only
 * {@link Choices}: ids, their raw log-probabilities, (when asked) the top alternatives, and for beams the top
 * {@code candidates} continuations of each group with their source beam.
 *
 * <p>Processors come in two forms. {@code processors} is the host form (any processor, the reference): it changes
 * one row's scores in place. {@code device} describes the same processing declaratively ({@link DeviceRow}: logit
 * bias, repetition / presence / frequency penalties, bans, temperature, top-k, top-p, min-p, typical-p) for a backend
 * that runs it in kernels; it is null when the chain holds a processor
 * that has no declarative form, and a device backend then runs the host form on a host copy of the logits.
 *
 * @param mode        greedy, seeded sampling or beam top-k
 * @param processors  host processors, row index and scores (null: none); for BEAM the scores are log-softmax values
 * @param device      row → its declarative processors (null: not expressible, or none when processors is null)
 * @param uniforms    SAMPLE: row → its random source; drawn once per row and step, only for a row with a finite score
 * @param active      rows to choose for (null: all); an inactive row gets id -1 and runs no processor
 * @param beams       BEAM: beams per group (rows = groups × beams); otherwise 1
 * @param candidates  BEAM: continuations kept per group (transformers: max(2, 1 + #eos) × beams)
 * @param beamScores  BEAM: running score of every row, added to its processed log-softmax
 * @param topLogprobs -1: no alternatives; n ≥ 0: each row's n best raw log-probabilities come back too
 */
public record TokenChoice(Mode mode, RowProcessor processors, IntFunction<DeviceRow> device,
                          IntFunction<DoubleSupplier> uniforms, boolean[] active, int beams, int candidates,
                          float[] beamScores, int topLogprobs) {

    public enum Mode { GREEDY, SAMPLE, BEAM }

    /** Changes row {@code row}'s scores in place (the host form of a processor chain). */
    @FunctionalInterface
    public interface RowProcessor {
        void process(int row, float[] scores);
    }

    /**
     * One row's processors in declarative form, applied in the host chain's order ({@code LogitsProcessorChain}):
     * logit bias ({@code biasValues[i]} added to {@code biasIds[i]}: the per-id sums of the biases that apply now,
     * distinct ids), repetition penalty over {@code seen} (each id once), OpenAI presence/frequency penalties
     * ({@code score -= presence + frequency · counts[i]} for {@code countIds[i]}: the generated ids and how often each
     * occurred, distinct ids), -inf for {@code banned}, then (sampling only) the warpers temperature, top-k, top-p,
     * min-p, typical-p, each with min_tokens_to_keep 1. A field at its neutral value (penalty 1, presence and frequency
     * 0, temperature 1, topK 0, topP 1, minP 0, typicalP 1, empty arrays) is off.
     *
     * <p>Two processors have no declarative form and stay on the host: structured-output constraints (a row's mask
     * is the automaton state of its generated text walked over the tokenizer's strings, built lazily per state on
     * the host: uploading it would be a rows × vocab mask per step, more than the logits themselves) and Whisper's
     * timestamp rules (model-specific branching on the history plus a log-sum-exp comparison of the timestamp block
     * against the best text token, run a handful of times per 30 s window; not worth a kernel of their own).
     */
    public record DeviceRow(int[] biasIds, float[] biasValues, float repetitionPenalty, int[] seen, float presence,
                            float frequency, int[] countIds, int[] counts, int[] banned, float temperature, int topK,
                            float topP, float minP, float typicalP) {
        private static final int[] NO_IDS = new int[0];

        public static final DeviceRow NONE = new DeviceRow(1f, NO_IDS, NO_IDS, 1f, 0, 1f);

        public DeviceRow {
            if (biasIds.length != biasValues.length) throw new IllegalArgumentException("one bias per id");
            if (countIds.length != counts.length) throw new IllegalArgumentException("one count per id");
        }

        /** Repetition penalty, bans, temperature, top-k, top-p only. */
        public DeviceRow(float repetitionPenalty, int[] seen, int[] banned, float temperature, int topK, float topP) {
            this(NO_IDS, new float[0], repetitionPenalty, seen, 0f, 0f, NO_IDS, NO_IDS, banned, temperature, topK, topP,
                    0f, 1f);
        }

        /** Whether presence/frequency penalties apply (a nonzero knob and a generated id). */
        public boolean penalizesCounts() {
            return (presence != 0f || frequency != 0f) && countIds.length > 0;
        }

        /** Whether a warper (temperature, top-k, top-p, min-p, typical-p) is on: sampling only. */
        public boolean warps() {
            return temperature != 1f || topK != 0 || topP < 1f || minP > 0f || typicalP < 1f;
        }
    }

    public TokenChoice {
        if (mode == Mode.SAMPLE && uniforms == null) throw new IllegalArgumentException("sampling needs random sources");
        if (mode == Mode.BEAM && (beams < 1 || candidates < 1 || beamScores == null))
            throw new IllegalArgumentException("beam top-k needs beams, candidates and running scores");
    }

    public static TokenChoice greedy(RowProcessor processors, IntFunction<DeviceRow> device, boolean[] active,
                                     int topLogprobs) {
        return new TokenChoice(Mode.GREEDY, processors, device, null, active, 1, 1, null, topLogprobs);
    }

    public static TokenChoice sample(RowProcessor processors, IntFunction<DeviceRow> device,
                                     IntFunction<DoubleSupplier> uniforms, boolean[] active, int topLogprobs) {
        return new TokenChoice(Mode.SAMPLE, processors, device, uniforms, active, 1, 1, null, topLogprobs);
    }

    public static TokenChoice beam(RowProcessor processors, IntFunction<DeviceRow> device, boolean[] active, int beams,
                                   int candidates, float[] beamScores, int topLogprobs) {
        return new TokenChoice(Mode.BEAM, processors, device, null, active, beams, candidates, beamScores, topLogprobs);
    }

    /**
     * This choice for a subset of its rows (GREEDY / SAMPLE only): row j of the result is row {@code rows[j]} of this
     * one (an engine pass holds rows of several requests).
     */
    public TokenChoice forRows(int[] rows) {
        if (mode == Mode.BEAM) throw new IllegalArgumentException("beam groups cannot be split into rows");
        RowProcessor p = processors == null ? null : (j, s) -> processors.process(rows[j], s);
        IntFunction<DeviceRow> d = device == null ? null : j -> device.apply(rows[j]);
        IntFunction<DoubleSupplier> u = uniforms == null ? null : j -> uniforms.apply(rows[j]);
        boolean[] a = null;
        if (active != null) {
            a = new boolean[rows.length];
            for (int j = 0; j < rows.length; j++) a[j] = active[rows[j]];
        }
        return new TokenChoice(mode, p, d, u, a, 1, 1, null, topLogprobs);
    }

    public boolean isActive(int row) {
        return active == null || active[row];
    }

    /** Whether a device backend can run this choice in kernels (nothing is left that only the host can do). */
    public boolean onDevice() {
        return topLogprobs < 0 && (processors == null || device != null);
    }
}
