package dev.cortado.layers;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.backend.Step;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;

/**
 * Token embeddings (× scale) plus optional learned positions (with an index offset, BART's 2) and token types,
 * then an optional norm. Sinusoidal or rotary positions are handled elsewhere (null position table).
 */
public record Embeddings(Tensor tokens, Tensor positions, int positionOffset, Tensor tokenTypes, Norm norm, float scale) {

    public int dim() {
        return (int) tokens.dim(1);
    }

    /** ids [B][S] (rectangular), positions [B][S] or null (0..S-1), typeIds [B][S] or null → [B, S, D]. */
    public Tensor forward(Backend be, int[][] ids, int[][] pos, int[][] typeIds) {
        int b = ids.length, s = ids[0].length, d = dim();
        // every row of each table lookup is written; the position/type rows are temporaries given back once added
        Tensor out = be.allocateOutput(DType.F32, b, s, d);
        be.embedding(tokens, flatten(ids), out);
        if (scale != 1f) be.scale(out, scale);
        if (positions != null) {
            Tensor pe = be.allocateOutput(DType.F32, b, s, d);
            be.embedding(positions, positionRows(b, s, pos), pe);
            be.add(out, pe, out);
            be.release(pe);
        }
        if (tokenTypes != null) {
            Tensor te = be.allocateOutput(DType.F32, b, s, d);
            be.embedding(tokenTypes, typeIds == null ? new int[b * s] : flatten(typeIds), te);
            be.add(out, te, out);
            be.release(te);
        }
        if (norm != null) norm.apply(be, out);
        return out;
    }

    /** The step's token ids (and learned-position rows, {@link #positionRows}) → [B, S, D]; no token types. */
    public Tensor forward(Backend be, Step step) {
        int b = step.meta().rows(), s = step.meta().queries(), d = dim();
        if (tokenTypes != null) throw new IllegalArgumentException("token-type embeddings take the host path");
        Tensor out = be.allocateOutput(DType.F32, b, s, d);   // every row written by the gather
        be.embedding(tokens, step, Backend.StepIds.TOKENS, out);
        if (scale != 1f) be.scale(out, scale);
        if (positions != null) {
            Tensor pe = be.allocateOutput(DType.F32, b, s, d);
            be.embedding(positions, step, Backend.StepIds.POSITIONS, pe);
            be.add(out, pe, out);
            be.release(pe);
        }
        if (norm != null) norm.apply(be, out);
        return out;
    }

    /**
     * Rows of the learned position table for positions [B][S] (null: 0..S-1), offset and checked; null when this
     * model has no learned positions.
     */
    public int[] positionRows(int b, int s, int[][] pos) {
        if (positions == null) return null;
        int[] p = new int[b * s];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < s; j++) {
                int v = (pos == null ? j : pos[i][j]) + positionOffset;
                if (v >= positions.dim(0)) {
                    throw new CortadoException("sequence of " + s + " tokens is longer than the model's "
                            + (positions.dim(0) - positionOffset) + " positions");
                }
                p[i * s + j] = Math.max(v, 0);
            }
        }
        return p;
    }

    static int[] flatten(int[][] a) {
        int s = a[0].length;
        int[] f = new int[a.length * s];
        for (int i = 0; i < a.length; i++) System.arraycopy(a[i], 0, f, i * s, s);
        return f;
    }
}
