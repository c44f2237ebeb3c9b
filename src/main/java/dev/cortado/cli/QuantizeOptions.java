package dev.cortado.cli;

import dev.cortado.backend.Quantization;
import dev.cortado.device.Device;
import picocli.CommandLine.Option;

/**
 * {@code --quantize int8|int4} and {@code --quantize-all}: load-time quantization of float weights (CPU backend);
 * {@code --no-cache}: without the packed-weight cache a load keeps beside the model.
 */
final class QuantizeOptions {
    @Option(names = "--quantize", description = "quantize float linear weights at load: int8 (symmetric, blocks of 32) or int4 "
            + "(blocks of 32 with offsets); embeddings and lm_head stay 16-bit unless --quantize-all (CPU)")
    String quantize;

    @Option(names = "--quantize-all", description = "with --quantize: also quantize the embedding tables and lm_head")
    boolean all;

    @Option(names = "--activations", paramLabel = "int8|float", description = "how 4-bit weights multiply activations (CPU): "
            + "int8 quantizes each activation row per weight block and sums exactly in integers (ONNX Runtime's MatMulNBits "
            + "accuracy_level 4, llama.cpp; faster), float multiplies by the dequantized weights (exactly the dequantized model). "
            + "Default: int8 with --quantize int4, else float (a MatMulNBits file with accuracy_level 4 asks for int8 itself; an explicit choice overrides it)")
    String activations;

    @Option(names = "--no-cache", description = "neither read nor write the packed-weight cache a load keeps beside the model "
            + "(.cortado-cache/; same as -Dcortado.packCache=false)")
    boolean noCache;

    Quantization quantization() {
        if (noCache) System.setProperty("cortado.packCache", "false");
        return Quantization.activations(Quantization.parse(quantize, all), activations);
    }

    Device apply(Device d) {
        return d.withQuantization(quantization());
    }
}
