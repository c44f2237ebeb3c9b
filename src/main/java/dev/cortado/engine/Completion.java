package dev.cortado.engine;

import dev.cortado.generate.GenerationResult;
import java.util.List;

/**
 * The outcome of one {@link Request}: its results (num_return_sequences of them, best first for beam search),
 * the prompt's token count and the generated tokens in all results (OpenAI's usage).
 */
public record Completion(List<GenerationResult> results, int promptTokens, int completionTokens) {
    public Completion {
        results = List.copyOf(results);
    }

    /** The first (best) result's text. */
    public String text() {
        return results.getFirst().text();
    }

    /** The first (best) result's generated ids. */
    public int[] ids() {
        return results.getFirst().ids();
    }
}
