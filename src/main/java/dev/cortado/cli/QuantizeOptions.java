package dev.cortado.cli;

import dev.cortado.backend.Quantization;
import dev.cortado.device.Device;
import picocli.CommandLine.Option;

/** {@code --quantize int8|int4} and {@code --quantize-all}: load-time quantization of float weights (CPU backend). */
final class QuantizeOptions {
    @Option(names = "--quantize", description = "quantize float linear weights at load: int8 (symmetric, blocks of 32) or int4 "
            + "(blocks of 32 with offsets); embeddings and lm_head stay 16-bit unless --quantize-all (CPU)")
    String quantize;

    @Option(names = "--quantize-all", description = "with --quantize: also quantize the embedding tables and lm_head")
    boolean all;

    Quantization quantization() {
        return Quantization.parse(quantize, all);
    }

    Device apply(Device d) {
        return d.withQuantization(quantization());
    }
}
