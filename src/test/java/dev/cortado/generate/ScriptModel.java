package dev.cortado.generate;

import java.util.ArrayList;
import java.util.List;

/**
 * A model that "wants" to say a fixed script: after the prompt, the k-th generated position puts logit 10 on
 * {@code script[k]} (0 elsewhere), then EOS (id 2) forever. Records what each session was fed.
 */
final class ScriptModel implements LanguageModel {
    static final int VOCAB = 32;
    final int[] script;
    final int context;
    final List<List<int[]>> fed = new ArrayList<>();

    ScriptModel(int context, int... script) {
        this.script = script;
        this.context = context;
    }

    @Override
    public int vocabSize() {
        return VOCAB;
    }

    @Override
    public int maxPositions() {
        return context;
    }

    @Override
    public DecoderSession newSession(int batch) {
        List<int[]> log = new ArrayList<>();
        fed.add(log);
        return new DecoderSession() {
            int steps;
            int length;

            @Override
            public float[][] step(int[][] tokens, boolean[][] valid) {
                for (int[] t : tokens) log.add(t.clone());
                length += tokens[0].length;
                if (length > context) throw new IllegalStateException("past the context");
                int next = steps < script.length ? script[steps] : 2;
                steps++;
                float[][] out = new float[batch][VOCAB];
                for (float[] row : out) row[next] = 10f;
                return out;
            }

            @Override
            public void reorder(int[] sources) {}

            @Override
            public int rows() {
                return batch;
            }

            @Override
            public int length() {
                return length;
            }
        };
    }
}
