package dev.cortado.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cortado.backend.Greedy;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.registry.Families;
import dev.cortado.testing.Shared;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Greedy picks on the backend ({@link DecoderSession#stepGreedy}, {@link dev.cortado.backend.Backend#greedy}) equal the
 * host path the generation code takes otherwise: {@link Sampler#argmax} and {@link Logprobs#of} over the step's
 * logits, id for id and bit for bit on the CPU.
 */
class GreedyStepTest {
    @Test
    void hostReferenceIsArgmaxAndLogSoftmax() {
        Random r = new Random(11);
        int rows = 4, vocab = 333;
        float[] flat = new float[rows * vocab];
        for (int i = 0; i < flat.length; i++) flat[i] = (float) r.nextGaussian() * 4;
        flat[2 * vocab + 7] = flat[2 * vocab + 9] = 50f;   // a tie: the first index wins
        Greedy g = Greedy.ofHost(flat, rows, vocab);
        for (int i = 0; i < rows; i++) {
            float[] row = java.util.Arrays.copyOfRange(flat, i * vocab, (i + 1) * vocab);
            assertEquals(Sampler.argmax(row), g.ids()[i]);
            assertEquals(Logprobs.of(row, g.ids()[i]), g.logprobs()[i]);
        }
        assertEquals(7, g.ids()[2]);
    }

    @Test
    void sessionGreedyStepsMatchTheirLogits() {
        try (LanguageModel m = Families.openDecoder(Shared.require("models/stories260K"), new CpuBackend(), Families.Engine.CORTADO);
             DecoderSession a = m.newSession(2); DecoderSession b = m.newSession(2)) {
            int[][] prompt = {{1, 403, 407}, {0, 1, 365}};
            boolean[][] valid = {{true, true, true}, {false, true, true}};
            float[][] logits = a.step(prompt, valid);
            Greedy g = b.stepGreedy(prompt, valid);
            for (int step = 0; step < 12; step++) {
                int[][] next = new int[2][1];
                for (int r = 0; r < 2; r++) {
                    assertEquals(Sampler.argmax(logits[r]), g.ids()[r], "step " + step + " row " + r);
                    assertEquals(Logprobs.of(logits[r], g.ids()[r]), g.logprobs()[r], "step " + step + " row " + r);
                    next[r][0] = g.ids()[r];
                }
                logits = a.step(next, null);
                g = b.stepGreedy(next, null);
            }
            assertArrayEquals(new int[] {a.length(), a.rows()}, new int[] {b.length(), b.rows()});
        }
    }
}
