package dev.cortado.backend;

import java.util.Arrays;

/**
 * Everything one forward step's layers need besides activations and weights, built once per step by the layer stack
 * (vLLM's per-step attention metadata) and bound once with {@link Backend#beginStep}: token ids, position indices,
 * and for self- and cross-attention the block tables, write positions, lengths and key masks. Every layer reads the
 * same bound step, so a device backend uploads it once per step, not once per layer.
 *
 * @param rows sequences in the step (B)
 * @param queries new tokens per row (S); the step's activations are [B, S, ·]
 * @param tokenIds [B·S] token ids for {@link Backend.StepIds#TOKENS} (null: inputs embedded elsewhere)
 * @param embedPositions [B·S] rows of a learned position table for {@link Backend.StepIds#POSITIONS} (null: none)
 * @param ropePositions [B·S] rotary positions (null: no rotary embedding)
 * @param self self-attention keys (a cache, or the step's own keys in an encoder)
 * @param cross cross-attention keys (an encoder's output), or null
 */
public record StepMetadata(int rows, int queries, int[] tokenIds, int[] embedPositions, int[] ropePositions,
                           Attn self, Attn cross) {

    public StepMetadata {
        int n = rows * queries;
        check("token ids", tokenIds, n);
        check("embedding positions", embedPositions, n);
        check("rotary positions", ropePositions, n);
        if (self == null) throw new IllegalArgumentException("a step needs self-attention metadata");
        if (self.rowStarts() != null && (queries != 1 || self.rowStarts().length != rows)) {
            throw new IllegalArgumentException("ragged rows append one token each: " + rows + " rows × " + queries);
        }
    }

    private static void check(String what, int[] a, int n) {
        if (a != null && a.length < n) throw new IllegalArgumentException(what + ": " + a.length + " values for " + n + " tokens");
    }

    /**
     * One attention's keys. {@code layout} is any layer's key view (every layer shares the block tables and
     * strides; only the pool tensor differs). New keys of row b's token p go to position {@link #position}; queries
     * attend keys [0, kvLen) under {@code mask}.
     *
     * @param rowStarts one write position per row (a ragged decode step), or null: row b's token p goes to start + p
     */
    public record Attn(KvView layout, int start, int[] rowStarts, int kvLen, AttentionMask mask) {
        public Attn {
            if (layout == null) throw new IllegalArgumentException("attention metadata needs a key layout");
            if (mask == null) mask = new AttentionMask(null, false, 0);
        }

        /** Cache position of token p of row b. */
        public int position(int b, int p) {
            return rowStarts == null ? start + p : rowStarts[b];
        }

        /** True when {@code v} addresses keys exactly as {@link #layout} does (same block tables and strides). */
        public boolean sameLayout(KvView v) {
            return v.blocks() == layout.blocks() && v.blockSize() == layout.blockSize() && v.heads() == layout.heads()
                    && v.headDim() == layout.headDim() && v.batchStride() == layout.batchStride()
                    && v.headStride() == layout.headStride() && v.posStride() == layout.posStride();
        }

        @Override
        public String toString() {
            return "Attn[start " + start + ", kvLen " + kvLen + (rowStarts == null ? "" : ", rowStarts " + Arrays.toString(rowStarts))
                    + (layout.isPaged() ? ", paged" : "") + "]";
        }
    }
}
