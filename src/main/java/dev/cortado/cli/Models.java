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

    enum Kind {
        SEQ2SEQ("a seq2seq (encoder-decoder) model", "cortado translate or cortado summarize"),
        DECODER("a decoder-only language model", "cortado generate"),
        SPEECH("a speech-to-text (Whisper) model", "cortado transcribe"),
        ENCODER("an encoder (embedding) model", "cortado embed"),
        /** Not enough evidence: the command tries and reports what it finds. */
        UNKNOWN("a model of unknown kind", null);

        final String what;
        final String command;

        Kind(String what, String command) {
            this.what = what;
            this.command = command;
        }
    }

    private static final Set<String> SEQ2SEQ_TYPES = Set.of("t5", "mt5", "umt5", "bart", "mbart", "marian", "pegasus",
            "m2m_100", "nllb-moe", "fsmt", "prophetnet", "led", "longt5", "switch_transformers", "whisper", "encoder-decoder");
    private static final Set<String> ENCODER_TYPES = Set.of("bert", "roberta", "distilbert", "xlm-roberta", "mpnet", "electra",
            "albert", "deberta", "deberta-v2", "camembert", "nomic_bert", "modernbert");
    private static final Set<String> DECODER_TYPES = Set.of("llama", "mistral", "mixtral", "qwen2", "qwen3", "gpt2", "gpt_neox",
            "gptj", "gpt_neo", "phi", "phi3", "gemma", "gemma2", "gemma3_text", "opt", "bloom", "falcon", "stablelm", "olmo", "smollm3");

    /** The kind of model at {@code path}: config.json first (model_type, is_encoder_decoder, architectures), then the ONNX layout. */
    static Kind kind(Path path) {
        if (!Files.exists(path)) throw new CortadoException("model not found: " + path);
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        ModelConfig speech = config(path);
        if (speech != null && "whisper".equals(speech.str("model_type", ""))) return Kind.SPEECH;
        if (dir != null && (Files.isRegularFile(dir.resolve("encoder_model.onnx")) || Files.isRegularFile(dir.resolve("onnx/encoder_model.onnx")))) {
            return Kind.SEQ2SEQ;
        }
        ModelConfig c = config(path);
        if (c != null) {
            String type = c.str("model_type", "");
            if (c.bool("is_encoder_decoder", false) || SEQ2SEQ_TYPES.contains(type)) return Kind.SEQ2SEQ;
            if (ENCODER_TYPES.contains(type)) return Kind.ENCODER;
            if (DECODER_TYPES.contains(type)) return Kind.DECODER;
            JsonNode arch = c.json().get("architectures");
            if (arch != null) {
                for (JsonNode a : arch) {
                    String n = a.asText();
                    if (n.endsWith("ForCausalLM") || n.endsWith("LMHeadModel")) return Kind.DECODER;
                    if (n.endsWith("ForConditionalGeneration")) return Kind.SEQ2SEQ;
                }
            }
        }
        Path onnx = singleOnnx(path);
        if (onnx == null) return Kind.UNKNOWN;
        try (OnnxModel m = OnnxModel.open(onnx)) {
            // a KV cache means a decoder; "logits" alone does not (classifier heads have it too)
            boolean past = m.graph().inputNames().stream().anyMatch(n -> n.startsWith("past_key_values"));
            if (past || m.graph().inputNames().contains("position_ids") && m.graph().outputNames().contains("logits")) return Kind.DECODER;
            if (m.graph().outputNames().contains("last_hidden_state") || m.graph().inputNames().contains("token_type_ids")) return Kind.ENCODER;
            return Kind.UNKNOWN;
        }
    }

    /** config.json of the model (folder, or the folder above an .onnx file), or null when there is none. */
    static ModelConfig config(Path path) {
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        if (dir == null) return null;
        boolean found = Files.isRegularFile(dir.resolve("config.json"))
                || dir.getParent() != null && Files.isRegularFile(dir.getParent().resolve("config.json"));
        return found ? ModelConfig.find(path) : null;
    }

    /** The one ONNX file of a decoder or encoder folder (or the file itself), or null. */
    static Path singleOnnx(Path path) {
        if (Files.isRegularFile(path)) return path.toString().endsWith(".onnx") ? path : null;
        for (String n : new String[] {"model.onnx", "onnx/model.onnx", "decoder_model_merged.onnx", "onnx/decoder_model_merged.onnx"}) {
            if (Files.isRegularFile(path.resolve(n))) return path.resolve(n);
        }
        return null;
    }

    /** Fails with the command that does run the model when {@code path} holds another kind than {@code want}. */
    static void require(Path path, Kind want, String command) {
        Kind k = kind(path);
        if (k == want || k == Kind.UNKNOWN) return;
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
        require(m, Kind.DECODER, "generate");
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
        require(m, Kind.SEQ2SEQ, command);
        return Families.openSeq2Seq(m, dev, dt, e);
    }

    /** The model {@code embed} runs; auto = Cortado's engine, else ONNX Runtime. A quantized graph on Cortado's engine says so. */
    static EmbeddingModel openEmbedder(Path m, Path tokenizer, Families.Engine e, Pooling p, boolean normalize) {
        require(m, Kind.ENCODER, "embed");
        if (e == Families.Engine.ORT) return Embedders.open(m, tokenizer, e, p, normalize);
        try {
            return Embedders.open(m, tokenizer, Families.Engine.CORTADO, p, normalize);
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
                throw new CortadoException(Embedders.resolveOnnx(m).getFileName() + " is a quantized (int8) graph (" + q
                        + "), which Cortado's engine does not run yet: run it with --engine ort (or --engine auto)");
            }
            throw first;
        }
    }

    private static final Set<String> QUANT_OPS = Set.of("MatMulInteger", "DynamicQuantizeLinear", "QuantizeLinear", "DequantizeLinear",
            "QLinearMatMul", "MatMulNBits", "ConvInteger", "QAttention", "DynamicQuantizeMatMul", "QGemm", "MatMulIntegerToFloat");

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
