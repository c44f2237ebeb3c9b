package dev.cortado.generate;

/** Why a sequence ended. {@link #label()} is the wire name: "stop", "length" or "eos". */
public enum FinishReason {
    /** A stop string was produced (the stop string is not part of the text). */
    STOP,
    /** max_new_tokens, max_length or the model's context was reached. */
    LENGTH,
    /** An end-of-sequence token was produced. */
    EOS;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
