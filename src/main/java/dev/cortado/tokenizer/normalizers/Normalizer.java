package dev.cortado.tokenizer.normalizers;

/** Rewrites text before pre-tokenization (tokenizer.json {@code normalizer}). Offsets are not tracked. */
@FunctionalInterface
public interface Normalizer {
    String normalize(String text);
}
