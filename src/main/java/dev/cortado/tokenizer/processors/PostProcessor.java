package dev.cortado.tokenizer.processors;

import dev.cortado.tokenizer.TokenBuffer;

/** Adds special tokens around one encoded sequence (tokenizer.json {@code post_processor}). */
public interface PostProcessor {
    /** The sequence with special tokens added. */
    TokenBuffer addSpecialTokens(TokenBuffer sequence);

    /** How many tokens {@link #addSpecialTokens} adds to a single sequence. */
    int addedTokens();

    PostProcessor NONE = new PostProcessor() {
        @Override
        public TokenBuffer addSpecialTokens(TokenBuffer sequence) {
            return sequence;
        }

        @Override
        public int addedTokens() {
            return 0;
        }
    };
}
