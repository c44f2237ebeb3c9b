package dev.cortado.engine;

import dev.cortado.tokenizer.Encoding;
import dev.cortado.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Sentence embeddings: tokenize (truncating at the model's maximum), pad the batch, run the encoder (Cortado's
 * own or ONNX Runtime), pool and optionally L2-normalize. Inputs are processed in batches of {@code batchSize}.
 */
public final class EmbeddingModel implements AutoCloseable {
    private final Tokenizer tokenizer;
    private final EncoderRunner runner;
    private final Pooling pooling;
    private final boolean normalize;
    private final int maxTokens;

    public EmbeddingModel(Tokenizer tokenizer, EncoderRunner runner, Pooling pooling, boolean normalize, int maxTokens) {
        this.tokenizer = tokenizer;
        this.runner = runner;
        this.pooling = pooling;
        this.normalize = normalize;
        this.maxTokens = Math.min(maxTokens, runner.maxPositions());
    }

    /** The encoder (Cortado's engine or ONNX Runtime) that computes the hidden states. */
    public EncoderRunner runner() {
        return runner;
    }

    /** One pooled (and, if configured, L2-normalized) vector per text, in order, {@code batchSize} texts per pass. */
    public List<float[]> embed(List<String> texts, int batchSize) {
        List<float[]> out = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i += batchSize) {
            out.addAll(embedBatch(texts.subList(i, Math.min(texts.size(), i + batchSize))));
        }
        return out;
    }

    /** Tokenizes one text as the model sees it (truncated, with special tokens). */
    public int[] tokenize(String text) {
        Encoding enc = tokenizer.encode(text, true);
        int real = 0;
        for (int m : enc.attentionMask()) real += m;
        // padding configured in tokenizer.json is dropped here; the batch is padded (and masked) below
        int[] ids = real == enc.ids().length ? enc.ids() : java.util.Arrays.copyOf(enc.ids(), real);
        if (ids.length <= maxTokens) return ids;
        // truncate keeping the final special token ([SEP]) as HF truncation does
        int[] t = java.util.Arrays.copyOf(ids, maxTokens);
        t[maxTokens - 1] = ids[ids.length - 1];
        return t;
    }

    private List<float[]> embedBatch(List<String> texts) {
        int b = texts.size();
        int[][] toks = new int[b][];
        int s = 1;
        for (int i = 0; i < b; i++) {
            toks[i] = tokenize(texts.get(i));
            s = Math.max(s, toks[i].length);
        }
        int[][] ids = new int[b][s];
        boolean[][] valid = new boolean[b][s];
        for (int i = 0; i < b; i++) {
            System.arraycopy(toks[i], 0, ids[i], 0, toks[i].length);
            for (int j = 0; j < toks[i].length; j++) valid[i][j] = true;
        }
        float[][][] hidden = runner.lastHiddenState(ids, new int[b][s], valid);
        List<float[]> out = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            float[] v = pooling.pool(hidden[i], valid[i]);
            out.add(normalize ? Pooling.normalize(v) : v);
        }
        return out;
    }

    /** Cosine similarity of two vectors (double accumulation). */
    public static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    /** Releases the encoder's weights and backend. */
    @Override
    public void close() {
        runner.close();
    }
}
