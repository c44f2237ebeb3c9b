package dev.cortado.generate;

import java.util.List;

/**
 * One generated token as OpenAI reports logprobs: its log-probability under the RAW model logits (log-softmax
 * before any processor) and the {@code logprobs} most likely alternatives, best first (ties by id).
 */
public record TokenLogprob(int id, String text, float logprob, List<Top> top) {
    /** One alternative token and its log-probability. */
    public record Top(int id, String text, float logprob) {}
}
