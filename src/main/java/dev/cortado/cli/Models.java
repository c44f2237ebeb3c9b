package dev.cortado.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.CortadoException;
import dev.cortado.device.Device;
import dev.cortado.registry.Embedders;
import dev.cortado.engine.EmbeddingModel;
import dev.cortado.engine.Pooling;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import dev.cortado.registry.ModelKind;
import dev.cortado.model.ModelConfig;
import dev.cortado.onnx.Node;
import dev.cortado.onnx.OnnxModel;
import dev.cortado.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * How every command that runs a model opens it: what kind of model a path holds (so that {@code translate} on a
 * decoder says "use generate" instead of failing later), the {@code --engine cortado|ort|auto} flag, and auto's
 * fallback from Cortado's engine to ONNX Runtime. {@code info} describes a model through the same openers.
 */
final class Models {
    private Models() {}

    /** The kind of model at {@code path} (see {@link ModelKind#of}). */
    static ModelKind kind(Path path) {
        return ModelKind.of(path);
    }

    /** config.json of the model (folder, or the folder above an .onnx file), or null when there is none. */
    static ModelConfig config(Path path) {
        return ModelKind.config(path);
    }

    /** The one ONNX file of a decoder or encoder folder (or the file itself), or null. */
    static Path singleOnnx(Path path) {
        return ModelKind.singleOnnx(path);
    }

    /** Fails with the command that does run the model when {@code path} holds another kind than {@code want}. */
    static void require(Path path, ModelKind want, String command) {
        ModelKind k = kind(path);
        if (k == want || k == ModelKind.UNKNOWN) return;
        ModelConfig c = config(path);
        String type = c != null && c.has("model_type") ? " (model_type " + c.modelType() + ")" : "";
        throw new CortadoException(path + " is " + k.what + type + ", which `cortado " + command + "` does not run; use "
                + k.command + " --model " + path);
    }

    /** {@code --engine}: cortado, ort (onnxruntime) or auto; null means auto. */
    static Families.Engine engine(String s) {
        if (s == null || s.equalsIgnoreCase("auto")) return null;
        try {
            return Families.Engine.parse(s);
        } catch (CortadoException e) {
            throw new CortadoException("unknown --engine '" + s + "' (use cortado, ort or auto)");
        }
    }

    /** The decoder {@code generate} runs; auto = Cortado's engine, else ONNX Runtime over the model's ONNX file (CPU). */
    static LanguageModel openDecoder(Path m, Device dev, DType dt, Families.Engine e) {
        require(m, ModelKind.DECODER, "generate");
        if (e != null) return Families.openDecoder(m, dev, dt, e);
        try {
            return Families.openDecoder(m, dev, dt, Families.Engine.CORTADO);
        } catch (CortadoException first) {
            if (dev.isCuda() || singleOnnx(m) == null) throw first;
            return Families.openDecoder(m, dev, dt, Families.Engine.ORT);
        }
    }

    /** The model {@code translate} and {@code summarize} run (auto as in {@link Families#openSeq2Seq}). */
    static Seq2Seq openSeq2Seq(Path m, Device dev, DType dt, Families.Engine e, String command) {
        require(m, ModelKind.SEQ2SEQ, command);
        return Families.openSeq2Seq(m, dev, dt, e);
    }

    /** The model {@code embed} runs; auto = Cortado's engine, else ONNX Runtime. A quantized graph on Cortado's engine says so. */
    static EmbeddingModel openEmbedder(Path m, Path tokenizer, Families.Engine e, Pooling p, boolean normalize) {
        return openEmbedder(m, tokenizer, e, p, normalize, dev.cortado.backend.Quantization.NONE);
    }

    static EmbeddingModel openEmbedder(Path m, Path tokenizer, Families.Engine e, Pooling p, boolean normalize,
                                       dev.cortado.backend.Quantization quant) {
        require(m, ModelKind.ENCODER, "embed");
        if (e == Families.Engine.ORT) return Embedders.open(m, tokenizer, e, p, normalize);
        try {
            return Embedders.open(m, tokenizer, Families.Engine.CORTADO, p, normalize, quant);
        } catch (CortadoException first) {
            if (e == null) {
                try {
                    return Embedders.open(m, tokenizer, Families.Engine.ORT, p, normalize);
                } catch (CortadoException ignored) {
                    throw first;
                }
            }
            String q = quantizedOps(Embedders.resolveOnnx(m));
            if (q != null) {
                throw new CortadoException(Embedders.resolveOnnx(m).getFileName() + " is a quantized graph (" + q
                        + "), which Cortado's engine does not run yet: run it with --engine ort (or --engine auto)");
            }
            throw first;
        }
    }

    /** Quantization ops Cortado's engine does not run (MatMulNBits, MatMulInteger + DynamicQuantizeLinear it does). */
    private static final Set<String> QUANT_OPS = Set.of("QuantizeLinear", "DequantizeLinear",
            "QLinearMatMul", "ConvInteger", "QAttention", "DynamicQuantizeMatMul", "QGemm", "MatMulIntegerToFloat");

    /** The quantization ops of an ONNX graph ("MatMulInteger, DynamicQuantizeLinear"), or null when it has none. */
    static String quantizedOps(Path onnx) {
        try (OnnxModel m = OnnxModel.open(onnx)) {
            Set<String> q = new TreeSet<>();
            for (Node n : m.graph().nodes()) if (QUANT_OPS.contains(n.opType())) q.add(n.opType());
            return q.isEmpty() ? null : String.join(", ", q);
        } catch (CortadoException e) {
            return null;
        }
    }
}
