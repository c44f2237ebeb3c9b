package dev.cortado.engine;

import dev.cortado.CortadoException;
import dev.cortado.generate.GenerationConfig;
import java.time.Duration;

/**
 * One generation request for an {@link Engine}: a text prompt (tokenized with the model's tokenizer, specials
 * added as {@code generate} does) or prompt token ids, a generation config (greedy, sampling, beams, stop strings,
 * logprobs: everything {@link dev.cortado.generate.Generator} takes), and an optional timeout after which the
 * request fails with a "deadline exceeded" error and frees its KV blocks.
 */
public record Request(String prompt, int[] promptIds, GenerationConfig config, Duration timeout) {
    public Request {
        if ((prompt == null) == (promptIds == null))
            throw new CortadoException("a request needs exactly one of prompt text or prompt token ids");
        if (config == null) throw new CortadoException("a request needs a generation config");
        if (timeout != null && (timeout.isNegative() || timeout.isZero()))
            throw new CortadoException("request timeout must be positive, got " + timeout);
        promptIds = promptIds == null ? null : promptIds.clone();
    }

    /** A text prompt, tokenized with the model's tokenizer. */
    public static Request of(String prompt, GenerationConfig config) {
        return new Request(prompt, null, config, null);
    }

    /** A prompt given as token ids (copied). */
    public static Request ofIds(int[] promptIds, GenerationConfig config) {
        return new Request(null, promptIds, config, null);
    }

    /** The same request failing with "deadline exceeded" (and freeing its KV blocks) after {@code t}. */
    public Request withTimeout(Duration t) {
        return new Request(prompt, promptIds, config, t);
    }

    /** A copy of the prompt ids, or null for a text prompt. */
    @Override
    public int[] promptIds() {
        return promptIds == null ? null : promptIds.clone();
    }
}
