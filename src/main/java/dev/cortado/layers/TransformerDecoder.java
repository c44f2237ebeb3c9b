package dev.cortado.layers;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.backend.Step;
import dev.cortado.backend.StepMetadata;
import dev.cortado.kv.KvSource;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.util.List;

/**
 * The decoder stack, written once for every family: embeddings → layers (cached self-attention, optional
 * cross-attention, MLP) → final norm → lm_head on the last position of each row.
 */
public record TransformerDecoder(Embeddings embeddings, List<DecoderLayer> layers, Norm finalNorm, Linear lmHead,
                                 float hiddenScaleBeforeHead, int kvHeads, int headDim, int maxPositions,
                                 RelativePositionBias positionBias) {

    /**
     * Runs tokens [rows][n] appended at cache position {@code start}; returns logits [rows, vocab] of each row's
     * last position. {@code positions} are absolute positions per token (rows·n).
     */
    public Tensor step(Backend be, int[][] tokens, int[][] positions, int[] flatPositions, KvSource cache, int start,
                       AttentionMask mask, List<DecoderLayer.Cross> cross) {
        return step(be, tokens, positions, flatPositions, cache, start, null, mask, cross);
    }

    /**
     * As above; with {@code rowStarts} non-null each row appends its one token at its own cache position
     * {@code rowStarts[r]} (a ragged decode step of the serving engine: rows of different lengths in one batch;
     * {@code mask.keyValid} then hides each row's keys beyond its own length and {@code start} is the longest).
     */
    public Tensor step(Backend be, int[][] tokens, int[][] positions, int[] flatPositions, KvSource cache, int start,
                       int[] rowStarts, AttentionMask mask, List<DecoderLayer.Cross> cross) {
        return step(be, tokens, positions, flatPositions, cache, start, rowStarts, mask, cross, null);
    }

    /**
     * As above; with {@code logitRows} non-null (ragged rows only) the head runs on those rows alone and the result is
     * [logitRows.length, vocab], or null when there are none: the serving engine's prompt tokens need no logits
     * except a prompt's last.
     */
    public Tensor step(Backend be, int[][] tokens, int[][] positions, int[] flatPositions, KvSource cache, int start,
                       int[] rowStarts, AttentionMask mask, List<DecoderLayer.Cross> cross, int[] logitRows) {
        int rows = tokens.length, n = tokens[0].length;
        if (rowStarts != null && positionBias != null)
            throw new IllegalArgumentException("ragged rows with a relative position bias (T5) are not supported");
        if (rowStarts != null && n != 1) throw new IllegalArgumentException("ragged rows append one token each, not " + n);
        StepMetadata meta = metadata(tokens, positions, flatPositions, cache, start, rowStarts, mask, cross);
        if (logitRows != null && logitRows.length == 0) {
            try (Step st = be.beginStep(meta)) {
                be.release(layers(be, st, n, start, cache, cross));
            }
            return null;
        }
        if (logitRows != null && n == 1 && isIdentity(logitRows, rows)) logitRows = null;   // the head on every row, in order
        // a one-token decode step with the head on every row may be replayed as a graph (T5's bias is computed on the
        // device where the backend can; a host-computed one makes the capture fail and the step run eagerly)
        boolean graphable = n == 1 && logitRows == null;
        int[] heads = logitRows;
        return be.decodeStep(meta, graphable, st -> {
            Tensor x = layers(be, st, n, start, cache, cross);
            // the bound step's rows: a device backend may pad a decode step's rows up to a graph bucket
            Tensor last = heads != null ? gatherRows(be, x, heads) : lastPositions(be, x, st.meta().rows(), n);
            if (finalNorm != null) finalNorm.apply(be, last);
            if (hiddenScaleBeforeHead != 1f) be.scale(last, hiddenScaleBeforeHead);
            Tensor logits = lmHead.forward(be, last);
            // the hidden state (and the gathered rows, when it is a copy) go back to the backend for the next step
            if (last.data() != x.data()) be.release(last);
            be.release(x);
            return logits;
        });
    }

    private static boolean isIdentity(int[] rows, int n) {
        if (rows.length != n) return false;
        for (int i = 0; i < n; i++) if (rows[i] != i) return false;
        return true;
    }

    /** Embeddings and every layer over the bound step: the last hidden state [B, S, D]. */
    private Tensor layers(Backend be, Step st, int n, int start, KvSource cache, List<DecoderLayer.Cross> cross) {
        Tensor x = embeddings.forward(be, st);
        Tensor bias = positionBias == null ? null : positionBias.compute(be, n, start + n, start, st);
        DecoderLayer.Residual r = new DecoderLayer.Residual(x, null);
        for (int l = 0; l < layers.size(); l++) {
            r = layers.get(l).forward(be, r, cache.keys(l), cache.values(l), st, bias, cross == null ? null : cross.get(l));
        }
        Tensor h = r.settle(be);
        be.release(r.pending());
        return h;
    }

    /** The step's metadata, built once: ids, position rows, rotary positions, self- and cross-attention keys. */
    private StepMetadata metadata(int[][] tokens, int[][] positions, int[] flatPositions, KvSource cache, int start,
                                  int[] rowStarts, AttentionMask mask, List<DecoderLayer.Cross> cross) {
        int rows = tokens.length, n = tokens[0].length;
        KvView layout = layers.isEmpty() ? KvView.ofRows(null, n, kvHeads, headDim) : cache.keys(0);
        StepMetadata.Attn self = new StepMetadata.Attn(layout, start, rowStarts, start + n, mask);
        StepMetadata.Attn crossAttn = null;
        if (cross != null && !cross.isEmpty()) {
            DecoderLayer.Cross c = cross.getFirst();
            crossAttn = new StepMetadata.Attn(c.k(), 0, null, c.length(), c.mask());
        }
        return new StepMetadata(rows, n, Embeddings.flatten(tokens), embeddings.positionRows(rows, n, positions),
                flatPositions, self, crossAttn);
    }

    private static Tensor gatherRows(Backend be, Tensor x, int[] rows) {
        int d = (int) x.dim(2);
        Tensor out = be.allocate(DType.F32, rows.length, d);
        long row = d * be.elementBytes(x.dtype());
        for (int i = 0; i < rows.length; i++) be.copy(x, rows[i] * row, out, i * row, row);
        return out;
    }

    private static Tensor lastPositions(Backend be, Tensor x, int rows, int n) {
        int d = (int) x.dim(2);
        if (n == 1) return x.reshape(rows, d);
        Tensor out = be.allocate(DType.F32, rows, d);
        long row = d * be.elementBytes(x.dtype());
        for (int r = 0; r < rows; r++) be.copy(x, (long) (r * n + n - 1) * row, out, r * row, row);
        return out;
    }
}
