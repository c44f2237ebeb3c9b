package dev.cortado.generate;

import dev.cortado.backend.HostChoice;

/**
 * Token choice from processed scores: greedy argmax, or a seeded draw by inverse CDF. The arithmetic lives in the
 * backend's host reference ({@link HostChoice}), which every backend's token choice matches.
 */
public final class Sampler {
    private Sampler() {}

    /** Index of the largest score; the first one on ties (as torch.argmax). */
    public static int argmax(float[] scores) {
        return HostChoice.argmax(scores);
    }

    /**
     * Draws a token: p = softmax(scores) in double; u = rng.nextDouble(); the first id (in id order) whose
     * cumulative probability exceeds u * sum(p). Tokens with -inf scores are never drawn.
     */
    public static int sample(float[] scores, Xoshiro256 rng) {
        return HostChoice.sample(scores, rng::nextDouble);
    }
}
