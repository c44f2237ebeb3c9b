package dev.cortado.layers;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.backend.Step;
import dev.cortado.backend.StepMetadata;
import dev.cortado.tensor.Tensor;
import java.util.List;

/** The encoder stack, written once: embeddings → layers → optional final norm. Families only configure it. */
public record TransformerEncoder(Embeddings embeddings, List<EncoderLayer> layers, Norm finalNorm,
                                 RelativePositionBias positionBias) {

    /**
     * ids [B][S] padded to a common length; {@code valid[b][j]} marks real tokens (padding is hidden from
     * attention). Returns the last hidden state [B, S, D].
     */
    public Tensor forward(Backend be, int[][] ids, int[][] typeIds, boolean[][] valid) {
        int b = ids.length, s = ids[0].length;
        int[] positions = new int[b * s];
        for (int i = 0; i < positions.length; i++) positions[i] = i % s;
        if (embeddings.tokenTypes() != null || layers.isEmpty()) {
            return layers(be, embeddings.forward(be, ids, null, typeIds), true, valid, positions, null);
        }
        // ids and position rows travel with the step's metadata: one upload for the whole encoder
        StepMetadata meta = metadata(b, s, Embeddings.flatten(ids), embeddings.positionRows(b, s, null), valid, positions);
        return layers(be, null, true, valid, positions, meta);
    }

    /**
     * The layers over inputs embedded elsewhere (Whisper: conv stem + positions), x [B, S, D]; {@code valid} as
     * above or null (all valid).
     */
    public Tensor forwardEmbedded(Backend be, Tensor x, boolean[][] valid) {
        int b = (int) x.dim(0), s = (int) x.dim(1);
        if (valid == null) {
            valid = new boolean[b][s];
            for (boolean[] v : valid) java.util.Arrays.fill(v, true);
        }
        int[] positions = new int[b * s];
        for (int i = 0; i < positions.length; i++) positions[i] = i % s;
        return layers(be, x, false, valid, positions, null);
    }

    private StepMetadata metadata(int b, int s, int[] ids, int[] embedPositions, boolean[][] valid, int[] positions) {
        Attention a = layers.getFirst().attention();
        KvView layout = KvView.ofRows(null, s, a.kvHeads(), a.headDim());
        return new StepMetadata(b, s, ids, embedPositions, positions,
                new StepMetadata.Attn(layout, 0, null, s, new AttentionMask(valid, false, 0)), null);
    }

    /**
     * One step for all layers: positions, lengths and the padding mask are bound once. x null: embed the step's ids
     * ({@code meta} carries them). {@code owned}: x (or the embedding made here) is a temporary of this forward, given
     * back to the backend once the first layer has read it; false for the caller's tensor.
     */
    private Tensor layers(Backend be, Tensor x, boolean owned, boolean[][] valid, int[] positions, StepMetadata meta) {
        int b = x != null ? (int) x.dim(0) : meta.rows(), s = x != null ? (int) x.dim(1) : meta.queries();
        if (meta == null && !layers.isEmpty()) meta = metadata(b, s, null, null, valid, positions);
        try (Step step = meta == null ? null : be.beginStep(meta)) {
            Tensor bias = positionBias == null ? null
                    : step == null ? positionBias.compute(be, s, s, 0) : positionBias.compute(be, s, s, 0, step);
            if (x == null) x = embeddings.forward(be, step);
            for (EncoderLayer layer : layers) {
                Tensor y = layer.forward(be, x, step, bias);
                if (y != x && owned) be.release(x);
                x = y;
                owned = true;
            }
        }
        if (finalNorm != null) finalNorm.apply(be, x);
        return x;
    }
}
