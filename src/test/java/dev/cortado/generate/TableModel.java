package dev.cortado.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The "table" language model of models/fixtures/generation/make_generation_goldens.py, as a LanguageModel:
 * logits = E[token] + F[previous non-padding token, or row V] + P[number of non-padding tokens before]. The tables
 * come from the golden file, so Java and PyTorch run the same model.
 */
final class TableModel implements LanguageModel {
    final float[][] e, f, p;
    final int vocab;
    int sessions;

    TableModel(JsonNode root) {
        e = table(root.get("E"));
        f = table(root.get("F"));
        p = table(root.get("P"));
        vocab = root.get("vocab_size").intValue();
    }

    static JsonNode goldens() {
        try (InputStream in = TableModel.class.getResourceAsStream("/goldens/generation/generation_goldens.json")) {
            return new ObjectMapper().readTree(in);
        } catch (IOException ex) {
            throw new RuntimeException(ex);
        }
    }

    private static float[][] table(JsonNode n) {
        float[][] t = new float[n.size()][];
        for (int i = 0; i < t.length; i++) {
            t[i] = new float[n.get(i).size()];
            for (int j = 0; j < t[i].length; j++) t[i][j] = n.get(i).get(j).floatValue();
        }
        return t;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int maxPositions() {
        return p.length;
    }

    /** Logits after {@code tokens} (all valid). */
    float[] logits(int last, int prev, int pos) {
        float[] out = new float[vocab];
        for (int v = 0; v < vocab; v++) out[v] = e[last][v] + f[prev][v] + p[pos][v];
        return out;
    }

    @Override
    public DecoderSession newSession(int batch) {
        sessions++;
        return new DecoderSession() {
            List<List<Integer>> valid = new ArrayList<>(); // non-padding tokens per row
            int length;

            {
                for (int r = 0; r < batch; r++) valid.add(new ArrayList<>());
            }

            @Override
            public float[][] step(int[][] tokens, boolean[][] mask) {
                if (tokens.length != batch) throw new IllegalArgumentException("rows " + tokens.length);
                float[][] out = new float[batch][];
                for (int r = 0; r < batch; r++) {
                    for (int j = 0; j < tokens[r].length; j++) {
                        if (mask == null || mask[r][j]) valid.get(r).add(tokens[r][j]);
                        else if (j == tokens[r].length - 1) throw new IllegalStateException("last position padding");
                    }
                    List<Integer> v = valid.get(r);
                    int n = v.size();
                    if (n > p.length) throw new IllegalStateException("past the context: " + n);
                    out[r] = logits(v.get(n - 1), n >= 2 ? v.get(n - 2) : vocab, n - 1);
                }
                length += tokens[0].length;
                return out;
            }

            @Override
            public void reorder(int[] sources) {
                List<List<Integer>> next = new ArrayList<>();
                for (int s : sources) next.add(new ArrayList<>(valid.get(s)));
                valid = next;
            }

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

    static int[] ints(JsonNode n) {
        int[] a = new int[n.size()];
        for (int i = 0; i < a.length; i++) a[i] = n.get(i).intValue();
        return a;
    }

    static float[] floats(JsonNode n) {
        float[] a = new float[n.size()];
        for (int i = 0; i < a.length; i++) a[i] = n.get(i).isNull() ? Float.NEGATIVE_INFINITY : n.get(i).floatValue();
        return a;
    }

    static String str(int[] a) {
        return Arrays.toString(a);
    }
}
