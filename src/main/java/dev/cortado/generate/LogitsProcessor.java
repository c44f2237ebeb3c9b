package dev.cortado.generate;

/**
 * Changes one row's next-token scores in place, given that row's token history. Implementations follow the Hugging
 * Face transformers processor of the same name; {@link LogitsProcessorChain} applies them in transformers' order.
 */
@FunctionalInterface
public interface LogitsProcessor {
    void process(TokenHistory history, float[] scores);
}
