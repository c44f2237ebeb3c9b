package dev.cortado.layers;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
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
        Tensor out = be.allocate(DType.F32, b, s, d);
        be.embedding(tokens, flatten(ids), out);
        if (scale != 1f) be.scale(out, scale);
        if (positions != null) {
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
            Tensor pe = be.allocate(DType.F32, b, s, d);
            be.embedding(positions, p, pe);
            be.add(out, pe, out);
        }
        if (tokenTypes != null) {
            Tensor te = be.allocate(DType.F32, b, s, d);
            be.embedding(tokenTypes, typeIds == null ? new int[b * s] : flatten(typeIds), te);
            be.add(out, te, out);
        }
        if (norm != null) norm.apply(be, out);
        return out;
    }

    static int[] flatten(int[][] a) {
        int s = a[0].length;
        int[] f = new int[a.length * s];
        for (int i = 0; i < a.length; i++) System.arraycopy(a[i], 0, f, i * s, s);
        return f;
    }
}
