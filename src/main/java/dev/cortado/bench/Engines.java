package dev.cortado.bench;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import dev.cortado.model.ModelConfig;
import dev.cortado.model.llama.LlamaFamily;
import java.lang.reflect.InvocationTargetException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Opens the engines a bench compares, on one model folder. */
public final class Engines {
    private Engines() {}

    /** GPT-2 hook: the family is written on another branch; until it lands here it is looked up by name. */
    static final String GPT2_FAMILY = "dev.cortado.model.gpt2.Gpt2Family";

    /** Cortado's own engine for an HF folder (config.json + safetensors) on the CPU, float32. */
    public static LanguageModel cortado(Path dir) {
        return cortado(dir, dev.cortado.device.Device.cpu(), dev.cortado.tensor.DType.F32);
    }

    /** Cortado's own engine for an HF folder, through the same family lookup as the CLI and the facade. */
    public static LanguageModel cortado(Path dir, dev.cortado.device.Device device, dev.cortado.tensor.DType dtype) {
        return dev.cortado.registry.Families.openDecoder(dir, device, dtype, dev.cortado.registry.Families.Engine.CORTADO);
    }

    /** Null when Cortado can run this model_type on this build; else why not. */
    public static String cortadoUnavailable(Path dir) {
        String type = ModelConfig.load(dir.resolve("config.json")).modelType();
        if (type.equals("gpt2")) {
            try {
                Class.forName(GPT2_FAMILY);
                return null;
            } catch (ClassNotFoundException e) {
                return "GPT-2 family (" + GPT2_FAMILY + ") is not in this build yet";
            }
        }
        return List.of("llama", "qwen2", "mistral").contains(type) ? null : "no Cortado family for model_type '" + type + "'";
    }

    private static LanguageModel byReflection(String cls, Path dir, Backend be) {
        try {
            Object m = Class.forName(cls).getMethod("fromSafetensors", Path.class, Backend.class).invoke(null, dir, be);
            return (LanguageModel) m;
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new CortadoException(cls + ".fromSafetensors failed: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new CortadoException(cls + " is not available in this build: " + e);
        }
    }

    /** The decoder ONNX beside an HF folder (model.onnx, or onnx/model.onnx), or null. */
    public static Path onnxOf(Path dir) {
        for (String n : new String[] {"model.onnx", "onnx/model.onnx", "decoder_model.onnx", "onnx/decoder_model.onnx"}) {
            if (Files.isRegularFile(dir.resolve(n))) return dir.resolve(n);
        }
        return null;
    }

    /**
     * ONNX Runtime Java on an Optimum decoder export, used the fast way: each step's present.N tensors are fed back
     * as the next step's past_key_values without leaving native memory (unlike {@link dev.cortado.ort.OrtDecoder},
     * which copies the cache to Java arrays, fine for an oracle but not for a speed comparison).
     */
    public static final class Ort implements LanguageModel {
        private final OrtEnvironment env = OrtEnvironment.getEnvironment();
        private final OrtSession session;
        private final int layers, kvHeads, headDim, vocab, maxPositions;

        public Ort(Path onnx, int maxPositions, int threads) {
            this.maxPositions = maxPositions;
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                o.setIntraOpNumThreads(threads);
                o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                session = env.createSession(onnx.toString(), o);
                Map<String, NodeInfo> in = session.getInputInfo();
                int n = 0;
                while (in.containsKey("past_key_values." + n + ".key")) n++;
                if (n == 0) throw new CortadoException(onnx + " has no past_key_values.N.key inputs");
                layers = n;
                long[] kv = ((TensorInfo) in.get("past_key_values.0.key").getInfo()).getShape();
                kvHeads = (int) kv[1];
                headDim = (int) kv[3];
                vocab = (int) ((TensorInfo) session.getOutputInfo().get("logits").getInfo()).getShape()[2];
            } catch (OrtException e) {
                throw new CortadoException("ONNX Runtime cannot load " + onnx + ": " + e.getMessage(), e);
            }
        }

        @Override public int vocabSize() { return vocab; }
        @Override public int maxPositions() { return maxPositions; }
        @Override public DecoderSession newSession(int batch) { return new Session(batch); }

        @Override
        public void close() {
            try {
                session.close();
            } catch (OrtException e) {
                throw new CortadoException("closing ONNX Runtime session: " + e.getMessage(), e);
            }
        }

        private final class Session implements DecoderSession {
            private final int rows;
            private final List<long[]> mask = new ArrayList<>();
            private final int[] nextPos;
            private OrtSession.Result last;
            private final Map<String, OnnxTensor> empty = new HashMap<>();
            private int length;

            Session(int rows) {
                this.rows = rows;
                this.nextPos = new int[rows];
            }

            @Override
            public float[][] step(int[][] tokens, boolean[][] valid) {
                int n = tokens[0].length;
                long[] ids = new long[rows * n], pos = new long[rows * n];
                long[] m = new long[rows * (length + n)];
                for (int r = 0; r < rows; r++) {
                    long[] row = new long[n];
                    for (int j = 0; j < n; j++) {
                        boolean ok = valid == null || valid[r][j];
                        ids[r * n + j] = tokens[r][j];
                        pos[r * n + j] = ok ? nextPos[r]++ : 1;
                        row[j] = ok ? 1 : 0;
                    }
                    if (mask.size() <= r) mask.add(row);
                    else {
                        long[] old = mask.get(r), grown = java.util.Arrays.copyOf(old, old.length + n);
                        System.arraycopy(row, 0, grown, old.length, n);
                        mask.set(r, grown);
                    }
                    System.arraycopy(mask.get(r), 0, m, r * (length + n), length + n);
                }
                Map<String, OnnxTensorLike> in = new HashMap<>();
                List<OnnxTensor> made = new ArrayList<>();
                try {
                    made.add(put(in, "input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {rows, n})));
                    made.add(put(in, "attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(m), new long[] {rows, length + n})));
                    made.add(put(in, "position_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(pos), new long[] {rows, n})));
                    for (int l = 0; l < layers; l++) {
                        for (String kv : new String[] {"key", "value"}) {
                            String name = "past_key_values." + l + "." + kv;
                            if (last == null) {
                                made.add(put(in, name, OnnxTensor.createTensor(env, FloatBuffer.allocate(0), new long[] {rows, kvHeads, 0, headDim})));
                            } else {
                                in.put(name, (OnnxTensor) last.get("present." + l + "." + kv).orElseThrow());
                            }
                        }
                    }
                    OrtSession.Result res = session.run(in);
                    if (last != null) last.close();
                    last = res;
                    length += n;
                    FloatBuffer logits = ((OnnxTensor) res.get("logits").orElseThrow()).getFloatBuffer();
                    float[][] out = new float[rows][vocab];
                    for (int r = 0; r < rows; r++) {
                        logits.position((r * n + n - 1) * vocab);
                        logits.get(out[r]);
                    }
                    return out;
                } catch (OrtException e) {
                    throw new CortadoException("ONNX Runtime failed: " + e.getMessage(), e);
                } finally {
                    made.forEach(OnnxTensor::close);
                }
            }

            private static OnnxTensor put(Map<String, OnnxTensorLike> in, String name, OnnxTensor t) {
                in.put(name, t);
                return t;
            }

            @Override
            public void reorder(int[] sources) {
                throw new UnsupportedOperationException("bench ORT session does not reorder rows");
            }

            @Override public int rows() { return rows; }
            @Override public int length() { return length; }

            @Override
            public void close() {
                if (last != null) last.close();
                last = null;
            }
        }
    }
}
