package dev.cortado.tokenizer.decoders;

import java.util.List;

/** Turns tokens back into text pieces (tokenizer.json {@code decoder}); the pieces are concatenated. */
@FunctionalInterface
public interface Decoder {
    List<String> decodeChain(List<String> tokens);
}
