package dev.cortado.registry;

import dev.cortado.model.ConfigCheck;
import dev.cortado.model.ModelConfig;
import dev.cortado.CortadoException;
import dev.cortado.device.Device;
import dev.cortado.backend.Backend;
import dev.cortado.tensor.DType;
import dev.cortado.engine.DecoderModel;
import dev.cortado.generate.LanguageModel;
import dev.cortado.model.gpt2.Gpt2Family;
import dev.cortado.model.llama.LlamaFamily;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.model.bart.BartFamily;
import dev.cortado.model.t5.T5Family;
import dev.cortado.ort.OrtDecoder;
import dev.cortado.ort.OrtRuntime;
import dev.cortado.ort.OrtSeq2Seq;
import java.nio.file.Files;
import java.nio.file.Path;

/** Picks the family from config.json's model_type and the source (safetensors or Optimum ONNX) from the path. */
public final class Families {
    private Families() {}

    public enum Engine { CORTADO, ORT;
        public static Engine parse(String s) {
            return switch (s.toLowerCase()) {
                case "cortado" -> CORTADO;
                case "ort", "onnxruntime" -> ORT;
                default -> throw new CortadoException("unknown engine '" + s + "' (use cortado or ort)");
            };
        }
    }

    /**
     * A decoder-only model. {@code path}: a folder (model.safetensors preferred for Cortado's engine, else
     * model.onnx / onnx/model.onnx / decoder_model_merged.onnx), an .onnx file or a .gguf file.
     */
    public static LanguageModel openDecoder(Path path, Backend be, Engine engine) {
        if (!Files.exists(path)) throw new CortadoException("model not found: " + path);
        if (be == null || engine == Engine.ORT) return loadDecoder(path, be, engine);
        be.beginLoad(path);   // the CPU backend's pack cache (.cortado-cache/)
        boolean ok = false;
        try {
            LanguageModel m = loadDecoder(path, be, engine);
            ok = true;
            return m;
        } finally {
            be.endLoad(ok);
        }
    }

    private static LanguageModel loadDecoder(Path path, Backend be, Engine engine) {
        if (GgufModels.is(path)) {
            if (engine == Engine.ORT) throw new CortadoException("--engine ort needs an ONNX file; a GGUF file runs on Cortado's engine (--engine cortado)");
            return GgufModels.open(path, be);
        }
        ModelConfig c = ModelConfig.find(path);
        ConfigCheck k = new ConfigCheck(c);
        int context = c.has("max_position_embeddings") ? k.size("max_position_embeddings", ConfigCheck.MAX_POSITIONS)
                : k.size("n_positions", 2048, ConfigCheck.MAX_POSITIONS);
        Path onnx = findOnnx(path);
        if (engine == Engine.ORT) {
            if (onnx == null) throw new CortadoException("--engine ort needs an ONNX file; none in " + path);
            OrtRuntime.require("--engine ort");
            return new OrtDecoder(onnx, context);
        }
        boolean safetensors = Files.isDirectory(path) && (Files.isRegularFile(path.resolve("model.safetensors"))
                || Files.isRegularFile(path.resolve("model.safetensors.index.json")));
        String type = c.modelType();
        return switch (type) {
            case "llama", "mistral", "qwen2" -> safetensors ? LlamaFamily.fromSafetensors(path, be) : LlamaFamily.fromOnnx(need(onnx, path), be);
            case "gpt2" -> safetensors ? Gpt2Family.fromSafetensors(path, be) : Gpt2Family.fromOnnx(need(onnx, path), be);
            default -> throw new CortadoException("model_type '" + type + "' has no Cortado decoder family (llama, mistral, qwen2, gpt2); "
                    + (onnx != null ? "run it with --engine ort" : "export it to ONNX to run it with --engine ort"));
        };
    }

    /**
     * An encoder-decoder model (t5, bart, marian). Cortado's engine reads HF safetensors; {@code engine == null}
     * means auto: Cortado when model.safetensors is present, else ONNX Runtime over the Optimum ONNX files.
     */
    public static Seq2Seq openSeq2Seq(Path dir, Backend be, Engine engine) {
        if (!Files.isDirectory(dir)) throw new CortadoException("model folder not found: " + dir);
        ModelConfig c = ModelConfig.find(dir);
        boolean safetensors = Files.isRegularFile(dir.resolve("model.safetensors")) || Files.isRegularFile(dir.resolve("model.safetensors.index.json"));
        Path onnxDir = Files.isRegularFile(dir.resolve("encoder_model.onnx")) ? dir : dir.resolve("onnx");
        ConfigCheck k = new ConfigCheck(c);
        int context = k.size("max_position_embeddings", k.size("n_positions", 512, ConfigCheck.MAX_POSITIONS), ConfigCheck.MAX_POSITIONS);
        if (engine == Engine.ORT) {
            OrtRuntime.require("--engine ort");
            return new OrtSeq2Seq(onnxDir, context);
        }
        if (be != null) be.beginLoad(dir);   // the CPU backend's pack cache (.cortado-cache/)
        boolean ok = false;
        try {
            Seq2Seq s = switch (c.modelType()) {
                case "t5" -> safetensors ? T5Family.fromSafetensors(dir, be) : T5Family.fromOnnx(onnxDir, be);
                case "bart", "marian" -> safetensors ? BartFamily.fromSafetensors(dir, be) : BartFamily.fromOnnx(onnxDir, be);
                case "whisper" -> throw new CortadoException(dir + " is a Whisper (speech-to-text) model; run it with: cortado transcribe --model "
                        + dir + " AUDIO.wav");
                default -> throw new CortadoException("model_type '" + c.modelType()
                        + "' has no Cortado seq2seq family (t5, bart, marian); use --engine ort");
            };
            ok = true;
            return s;
        } catch (CortadoException e) {
            // auto: a graph Cortado's engine does not recognize still runs, through ONNX Runtime
            if (engine == null && Files.isRegularFile(onnxDir.resolve("encoder_model.onnx"))) {
                if (!OrtRuntime.available()) {
                    throw new CortadoException(e.getMessage() + " (ONNX Runtime, an optional dependency, is not on the class path either)", e);
                }
                return new OrtSeq2Seq(onnxDir, context);
            }
            throw e;
        } finally {
            if (be != null) be.endLoad(ok);
        }
    }

    /**
     * {@link #openDecoder(Path, Backend, Engine)} on a new backend for {@code device} (fp32 unless {@code dtype});
     * the model owns and closes the backend. ONNX Runtime runs on the CPU only.
     */
    public static LanguageModel openDecoder(Path path, Device device, DType dtype, Engine engine) {
        if (engine == Engine.ORT) {
            if (device.isCuda()) throw new CortadoException("--engine ort runs on the CPU; use --engine cortado with --device " + device);
            return openDecoder(path, (Backend) null, engine);
        }
        Backend be = device.backend(dtype);
        try {
            return openDecoder(path, be, engine);
        } catch (RuntimeException e) {
            be.close();
            throw e;
        }
    }

    /** {@link #openSeq2Seq(Path, Backend, Engine)} on a new backend for {@code device}; the model owns it. */
    public static Seq2Seq openSeq2Seq(Path dir, Device device, DType dtype, Engine engine) {
        if (engine == Engine.ORT) {
            if (device.isCuda()) throw new CortadoException("--engine ort runs on the CPU; use --engine cortado with --device " + device);
            return openSeq2Seq(dir, (Backend) null, engine);
        }
        Backend be = device.backend(dtype);
        try {
            Seq2Seq s = openSeq2Seq(dir, be, device.isCuda() ? Engine.CORTADO : engine);
            if (s instanceof dev.cortado.ort.OrtSeq2Seq) be.close(); // auto fell back to ONNX Runtime (CPU)
            return s;
        } catch (RuntimeException e) {
            be.close();
            throw e;
        }
    }

    public static DecoderModel openCortadoDecoder(Path path, Backend be) {
        return (DecoderModel) openDecoder(path, be, Engine.CORTADO);
    }

    private static Path need(Path onnx, Path path) {
        if (onnx == null) throw new CortadoException("no model.safetensors or ONNX decoder in " + path);
        return onnx;
    }

    static Path findOnnx(Path path) {
        if (Files.isRegularFile(path) && path.toString().endsWith(".onnx")) return path;
        if (!Files.isDirectory(path)) return null;
        for (String n : new String[] {"model.onnx", "onnx/model.onnx", "decoder_model_merged.onnx", "onnx/decoder_model_merged.onnx"}) {
            if (Files.isRegularFile(path.resolve(n))) return path.resolve(n);
        }
        return null;
    }
}
