package dev.cortado.registry;

import dev.cortado.engine.EmbeddingModel;
import dev.cortado.engine.EncoderRunner;
import dev.cortado.engine.Pooling;
import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.registry.Families;
import dev.cortado.model.bert.BertModel;
import dev.cortado.onnx.OnnxModel;
import dev.cortado.ort.OrtEncoder;
import dev.cortado.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens an embedding model from a path (a .onnx file or a folder with model.onnx + tokenizer.json). */
public final class Embedders {
    private Embedders() {}

    public static EmbeddingModel open(Path path, Path tokenizerPath, Families.Engine engine, Pooling pooling, boolean normalize) {
        return open(path, tokenizerPath, engine, pooling, normalize, dev.cortado.backend.Quantization.NONE);
    }

    /** As above; {@code quantization} (--quantize) quantizes the float linear weights of Cortado's engine at load. */
    public static EmbeddingModel open(Path path, Path tokenizerPath, Families.Engine engine, Pooling pooling, boolean normalize,
                                      dev.cortado.backend.Quantization quantization) {
        Path onnx = resolveOnnx(path);
        Path tok = tokenizerPath != null ? tokenizerPath : onnx.resolveSibling("tokenizer.json");
        if (!Files.isRegularFile(tok)) {
            throw new CortadoException("no tokenizer.json next to " + onnx + " (pass --tokenizer PATH)");
        }
        Tokenizer tokenizer = Tokenizer.fromFile(tok);
        EncoderRunner runner;
        if (engine == Families.Engine.ORT) {
            dev.cortado.ort.OrtRuntime.require("--engine ort");
            int maxPos;
            try (OnnxModel m = OnnxModel.open(onnx)) {
                maxPos = positionsOf(m);
            }
            runner = new OrtEncoder(onnx, maxPos);
        } else {
            runner = openCortado(onnx, quantization.enabled()
                    ? new CpuBackend(dev.cortado.backend.cpu.WorkerPool.shared(), dev.cortado.tensor.DType.F32, quantization) : new CpuBackend());
        }
        return new EmbeddingModel(tokenizer, runner, pooling, normalize, 512);
    }

    /** Cortado's engine over a BERT-family ONNX file. The mapping stays valid while the returned runner lives. */
    public static EncoderRunner openCortado(Path onnx, Backend be) {
        OnnxModel m = OnnxModel.open(onnx);
        try {
            BertModel bert = BertModel.load(m, be);
            return new EncoderRunner() {
                @Override public float[][][] lastHiddenState(int[][] ids, int[][] t, boolean[][] v) {
                    return bert.lastHiddenState(ids, t, v);
                }
                @Override public int maxPositions() { return bert.maxPositions(); }
                @Override public String describe() { return bert.describe(); }
                @Override public void close() { m.close(); be.close(); }
            };
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    static int positionsOf(OnnxModel m) {
        var t = m.graph().initializers().get("embeddings.position_embeddings.weight");
        return t == null ? 512 : (int) t.dim(0);
    }

    public static Path resolveOnnx(Path path) {
        if (!Files.exists(path)) throw new CortadoException("model not found: " + path);
        if (Files.isDirectory(path)) {
            for (String name : new String[] {"model.onnx", "onnx/model.onnx"}) {
                Path p = path.resolve(name);
                if (Files.isRegularFile(p)) return p;
            }
            throw new CortadoException("no model.onnx in " + path);
        }
        return path;
    }
}
