package dev.cortado.generate;

/** Beam search stopping rule, as Hugging Face's {@code early_stopping}: {@code true}, {@code false} or {@code "never"}. */
public enum EarlyStopping {
    /** Stop a prompt as soon as {@code num_beams} hypotheses are finished. */
    TRUE,
    /** Stop when no running beam can beat the worst finished one, assuming the current length (HF's heuristic). */
    FALSE,
    /** Canonical beam search: stop only when no running beam can improve, using the best reachable length. */
    NEVER
}
