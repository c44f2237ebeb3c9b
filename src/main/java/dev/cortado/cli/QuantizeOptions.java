package dev.cortado.cli;

import dev.cortado.backend.Quantization;
import dev.cortado.device.Device;
import picocli.CommandLine.Option;

/**
 * {@code --quantize int8|int4} and {@code --quantize-all}: load-time quantization of float weights (CPU backend);
 * {@code --no-cache}: without the packed-weight cache a quantizing load keeps beside the model.
 */
final class QuantizeOptions {
    @Option(names = "--quantize", description = "quantize float linear weights at load: int8 (symmetric, blocks of 32) or int4 "
            + "(blocks of 32 with offsets); embeddings and lm_head stay 16-bit unless --quantize-all (CPU)")
    String quantize;

    @Option(names = "--quantize-all", description = "with --quantize: also quantize the embedding tables and lm_head")
    boolean all;

    @Option(names = "--no-cache", description = "with --quantize: neither read nor write the packed-weight cache beside the model "
            + "(.cortado-cache/; same as -Dcortado.packCache=false)")
    boolean noCache;

    Quantization quantization() {
        if (noCache) System.setProperty("cortado.packCache", "false");
        return Quantization.parse(quantize, all);
    }

    Device apply(Device d) {
        return d.withQuantization(quantization());
    }
}
