package dev.cortado.generate;

/** What to do when prompt + max_new_tokens exceed the model's context ({@code truncate_prompt}). */
public enum PromptOverflow {
    /** Refuse with a {@link dev.cortado.CortadoException} naming the lengths (the default). */
    ERROR,
    /** Drop tokens from the start of the prompt so that prompt + max_new_tokens fit. */
    TRUNCATE_LEFT
}
