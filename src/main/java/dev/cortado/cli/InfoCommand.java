package dev.cortado.cli;

import dev.cortado.registry.ModelKind;
import dev.cortado.device.Device;
import dev.cortado.engine.DefaultModels;
import dev.cortado.engine.EmbeddingModel;
import dev.cortado.engine.Pooling;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import dev.cortado.model.ModelConfig;
import dev.cortado.model.whisper.WhisperFamily;
import dev.cortado.onnx.OnnxModel;
import dev.cortado.safetensors.Safetensors;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cortado info}: what a model is (kind, family, files, parameters, dtype) and which engine runs it. The model
 * is opened exactly as the command that runs it opens it ({@link Models}), on {@code --device}.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Describe a model: kind, the command that runs it, files, parameters, and the engine that runs it on --device "
                + "(default model: the embedding model). With --device cuda the GPU is described first.")
public final class InfoCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", description = "a model folder (ONNX or safetensors) or an .onnx file")
    Path model;

    @Option(names = "--engine", defaultValue = "auto", description = "cortado, ort or auto: the engine to open the model with (default ${DEFAULT-VALUE})")
    String engine;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda[:N]: with cuda, the GPU and the model loaded on it")
    String device;

    @Option(names = "--dtype", defaultValue = "f32", description = "weights: f32, bf16, f16 (CUDA), as for the commands that run models")
    String dtype;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Families.Engine e = Models.engine(engine);
        DType dt = Devices.dtype(dtype);
        if (!device.equals("cpu")) {
            out.println(DeviceInfo.describe(device));
            out.flush();
            if (model == null) return 0;
        }
        Path m = model != null ? model : DefaultModels.minilm();
        ModelKind kind = Models.kind(m);
        ModelConfig c = Models.config(m);
        out.println("model:      " + m);
        out.println("kind:       " + kind.what + (c != null && c.has("model_type") ? " (model_type " + c.modelType() + ")" : "")
                + (kind.command != null ? "; run it with " + kind.command : ""));
        for (Path f : files(m, kind)) describeFile(out, f);
        out.flush();
        Device dev = Devices.parse(device);
        out.println("engine:     " + switch (kind) {
            case SEQ2SEQ -> {
                try (Seq2Seq s = Models.openSeq2Seq(m, dev, dt, e, "info")) {
                    yield s.describe();
                }
            }
            case DECODER -> {
                try (LanguageModel lm = Models.openDecoder(m, dev, dt, e)) {
                    yield describe(lm);
                }
            }
            case ENCODER -> {
                Devices.requireCpu(device);
                try (EmbeddingModel em = Models.openEmbedder(m, null, e, Pooling.MEAN, true)) {
                    yield em.runner().describe();
                }
            }
            case SPEECH -> {
                try (var w = WhisperFamily.open(m, dev.backend(dt))) {
                    yield w.describe();
                }
            }
            case UNKNOWN -> "none: neither a seq2seq, a decoder nor an encoder model was recognized (config.json model_type, ONNX inputs)";
        });
        out.flush();
        return 0;
    }

    private static String describe(LanguageModel lm) {
        if (lm instanceof dev.cortado.engine.DecoderModel d) return d.describe();
        return "onnxruntime (" + lm.getClass().getSimpleName() + "), context " + lm.maxPositions() + " positions";
    }

    /** The weight files the commands read: safetensors and the ONNX files of the Optimum layout. */
    private static List<Path> files(Path m, ModelKind kind) {
        List<Path> out = new ArrayList<>();
        if (Files.isRegularFile(m)) return List.of(m);
        for (String n : new String[] {Safetensors.INDEX, Safetensors.SINGLE}) {
            if (Files.isRegularFile(m.resolve(n))) {
                out.add(m.resolve(n));
                break;
            }
        }
        if (kind == ModelKind.SEQ2SEQ || kind == ModelKind.SPEECH) {
            Path dir = Files.isRegularFile(m.resolve("encoder_model.onnx")) ? m : m.resolve("onnx");
            for (String n : new String[] {"encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx", "decoder_model_merged.onnx"}) {
                if (Files.isRegularFile(dir.resolve(n))) out.add(dir.resolve(n));
            }
        } else {
            Path onnx = Models.singleOnnx(m);
            if (onnx != null) out.add(onnx);
        }
        return out;
    }

    private static void describeFile(PrintWriter out, Path f) {
        if (dev.cortado.registry.GgufModels.is(f)) {
            out.println("file:       " + f);
            for (String line : dev.cortado.registry.GgufModels.describe(f)) out.println(line);
            return;
        }
        if (f.getFileName().toString().endsWith(".onnx")) {
            try (OnnxModel o = OnnxModel.open(f)) {
                out.println("file:       " + f);
                out.println("  producer: " + o.producerName() + " (IR " + o.irVersion() + ", opset " + o.opsetImports() + "), "
                        + o.graph().nodes().size() + " nodes");
                int backed = o.graph().inputs().size() - o.graph().runtimeInputs().size();
                out.println("  inputs:   " + o.graph().runtimeInputNames()
                        + (backed > 0 ? " (+" + backed + " graph inputs with an initializer, not listed)" : ""));
                out.println("  outputs:  " + o.graph().outputNames());
                out.println("  weights:  " + parameters(o.graph().initializers().values()));
            }
        } else {
            try (Safetensors s = f.getFileName().toString().endsWith(".json") ? Safetensors.openFolder(f.getParent()) : Safetensors.open(f)) {
                out.println("file:       " + f + (s.files().size() > 1 ? " (" + s.files().size() + " shards)" : ""));
                out.println("  weights:  " + parameters(s.tensors().values()) + " in " + s.tensors().size() + " tensors");
            }
        }
    }

    private static String parameters(Collection<Tensor> tensors) {
        long params = 0;
        Map<DType, Long> byType = new TreeMap<>();
        for (Tensor t : tensors) {
            if (!t.dtype().isFloat() && t.dtype() != DType.I8 && t.dtype() != DType.U8) continue;
            params += t.numel();
            byType.merge(t.dtype(), t.numel(), Long::sum);
        }
        return String.format("%,d parameters %s", params, byType);
    }
}
