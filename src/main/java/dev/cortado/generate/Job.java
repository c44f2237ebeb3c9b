package dev.cortado.generate;

import dev.cortado.tokenizer.Tokenizer;

import java.util.List;
import java.util.function.Consumer;

/**
 * One generate call, prepared: the validated config, prompts (decoder prompts for seq2seq: decoder start + prefix),
 * each prompt's total-length limit, the padding id, and where streamed tokens go (may be null).
 */
record Job(LanguageModel model, GenerationConfig config, Tokenizer tokenizer, int[][] prompts, int[] maxLengths,
           int pad, Consumer<GeneratedToken> sink) {

    List<Integer> eos() {
        return config.eosTokenIds();
    }

    /** Left-pads {@code rows} prompts (row r uses prompt {@code promptOf[r]}) into tokens and validity masks. */
    Object[] leftPadded(int[] promptOf) {
        int width = 0;
        for (int p : promptOf) width = Math.max(width, prompts[p].length);
        int[][] tokens = new int[promptOf.length][width];
        boolean[][] valid = new boolean[promptOf.length][width];
        boolean anyPad = false;
        for (int r = 0; r < promptOf.length; r++) {
            int[] p = prompts[promptOf[r]];
            int off = width - p.length;
            for (int j = 0; j < width; j++) {
                boolean v = j >= off;
                tokens[r][j] = v ? p[j - off] : pad;
                valid[r][j] = v;
                anyPad |= !v;
            }
        }
        return new Object[] {tokens, anyPad ? valid : null};
    }

    void emit(GeneratedToken t) {
        if (sink != null) sink.accept(t);
    }
}
