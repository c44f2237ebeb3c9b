package dev.cortado.backend;

/**
 * What one step's {@link TokenChoice} returns to the host. GREEDY / SAMPLE: {@code ids[r]} and {@code logprobs[r]}
 * (the raw log-softmax of the chosen id) per row; an inactive row has id -1. BEAM: per group g the candidates
 * c &lt; k at index g·k + c, best first: token {@code ids}, {@code sources} (beam within the group), {@code scores}
 * (processed log-probability + running score) and {@code logprobs} (the raw log-softmax of the token in its source
 * row). {@code topIds} / {@code topLogprobs} (per row, null unless asked): the n best raw log-probabilities, best
 * first, lower id first among equals.
 */
public record Choices(int[] ids, float[] logprobs, int[] sources, float[] scores, int[][] topIds,
                      float[][] topLogprobs) {

    public static Choices of(Greedy g) {
        return new Choices(g.ids(), g.logprobs(), null, null, null, null);
    }

    /** A greedy pass over every row as {@code c}'s choices: rows {@code c} leaves inactive get id -1, logprob NaN. */
    public static Choices greedy(Greedy g, TokenChoice c) {
        for (int r = 0; r < g.ids().length; r++) {
            if (c.isActive(r)) continue;
            g.ids()[r] = -1;
            g.logprobs()[r] = Float.NaN;
        }
        return of(g);
    }
}
