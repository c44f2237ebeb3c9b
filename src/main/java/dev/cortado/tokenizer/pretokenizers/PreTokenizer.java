package dev.cortado.tokenizer.pretokenizers;

import java.util.List;

/** Splits normalized text into words (tokenizer.json {@code pre_tokenizer}); may also rewrite them. */
@FunctionalInterface
public interface PreTokenizer {
    /** Appends the words of {@code text} to {@code out}; empty words are never appended. */
    void split(String text, List<String> out);
}
