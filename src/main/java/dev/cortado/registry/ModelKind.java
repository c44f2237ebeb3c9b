package dev.cortado.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.CortadoException;
import dev.cortado.model.ModelConfig;
import dev.cortado.onnx.OnnxModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * What kind of model a path holds, decided once for every surface (CLI commands, {@code info}, the facade, batch and
 * serve): config.json first (model_type, is_encoder_decoder, architectures), then the ONNX layout.
 */
public enum ModelKind {
    SEQ2SEQ("a seq2seq (encoder-decoder) model", "cortado translate or cortado summarize"),
    DECODER("a decoder-only language model", "cortado generate"),
    SPEECH("a speech-to-text (Whisper) model", "cortado transcribe"),
    ENCODER("an encoder (embedding) model", "cortado embed"),
    /** Not enough evidence: the command tries and reports what it finds. */
    UNKNOWN("a model of unknown kind", null);

    /** "a seq2seq (encoder-decoder) model", … (for messages). */
    public final String what;
    /** The CLI command that runs this kind, or null. */
    public final String command;

    ModelKind(String what, String command) {
        this.what = what;
        this.command = command;
    }

    private static final Set<String> SEQ2SEQ_TYPES = Set.of("t5", "mt5", "umt5", "bart", "mbart", "marian", "pegasus",
            "m2m_100", "nllb-moe", "fsmt", "prophetnet", "led", "longt5", "switch_transformers", "whisper", "encoder-decoder");
    private static final Set<String> ENCODER_TYPES = Set.of("bert", "roberta", "distilbert", "xlm-roberta", "mpnet", "electra",
            "albert", "deberta", "deberta-v2", "camembert", "nomic_bert", "modernbert");
    private static final Set<String> DECODER_TYPES = Set.of("llama", "mistral", "mixtral", "qwen2", "qwen3", "gpt2", "gpt_neox",
            "gptj", "gpt_neo", "phi", "phi3", "gemma", "gemma2", "gemma3_text", "opt", "bloom", "falcon", "stablelm", "olmo", "smollm3");

    /** The kind of model at {@code path}: config.json first (model_type, is_encoder_decoder, architectures), then the ONNX layout. */
    public static ModelKind of(Path path) {
        if (!Files.exists(path)) throw new CortadoException("model not found: " + path);
        if (GgufModels.is(path)) return ModelKind.DECODER; // the architectures Cortado reads from GGUF are all decoders
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        ModelConfig speech = config(path);
        if (speech != null && "whisper".equals(speech.str("model_type", ""))) return ModelKind.SPEECH;
        if (dir != null && (Files.isRegularFile(dir.resolve("encoder_model.onnx")) || Files.isRegularFile(dir.resolve("onnx/encoder_model.onnx")))) {
            return ModelKind.SEQ2SEQ;
        }
        ModelConfig c = config(path);
        if (c != null) {
            String type = c.str("model_type", "");
            if (c.bool("is_encoder_decoder", false) || SEQ2SEQ_TYPES.contains(type)) return ModelKind.SEQ2SEQ;
            if (ENCODER_TYPES.contains(type)) return ModelKind.ENCODER;
            if (DECODER_TYPES.contains(type)) return ModelKind.DECODER;
            JsonNode arch = c.json().get("architectures");
            if (arch != null) {
                for (JsonNode a : arch) {
                    String n = a.asText();
                    if (n.endsWith("ForCausalLM") || n.endsWith("LMHeadModel")) return ModelKind.DECODER;
                    if (n.endsWith("ForConditionalGeneration")) return ModelKind.SEQ2SEQ;
                }
            }
        }
        Path onnx = singleOnnx(path);
        if (onnx == null) return ModelKind.UNKNOWN;
        try (OnnxModel m = OnnxModel.open(onnx)) {
            // a KV cache means a decoder; "logits" alone does not (classifier heads have it too)
            boolean past = m.graph().inputNames().stream().anyMatch(n -> n.startsWith("past_key_values"));
            if (past || m.graph().inputNames().contains("position_ids") && m.graph().outputNames().contains("logits")) return ModelKind.DECODER;
            if (m.graph().outputNames().contains("last_hidden_state") || m.graph().inputNames().contains("token_type_ids")) return ModelKind.ENCODER;
            return ModelKind.UNKNOWN;
        }
    }

    /** config.json of the model (folder, or the folder above an .onnx file), or null when there is none. */
    public static ModelConfig config(Path path) {
        if (GgufModels.is(path)) return null; // its configuration is in the file's metadata
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        if (dir == null) return null;
        boolean found = Files.isRegularFile(dir.resolve("config.json"))
                || dir.getParent() != null && Files.isRegularFile(dir.getParent().resolve("config.json"));
        return found ? ModelConfig.find(path) : null;
    }

    /** The one ONNX file of a decoder or encoder folder (or the file itself), or null. */
    public static Path singleOnnx(Path path) {
        if (Files.isRegularFile(path)) return path.toString().endsWith(".onnx") ? path : null;
        for (String n : new String[] {"model.onnx", "onnx/model.onnx", "decoder_model_merged.onnx", "onnx/decoder_model_merged.onnx"}) {
            if (Files.isRegularFile(path.resolve(n))) return path.resolve(n);
        }
        return null;
    }
}
