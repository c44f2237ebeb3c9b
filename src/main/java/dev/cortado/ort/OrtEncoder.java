package dev.cortado.ort;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.cortado.CortadoException;
import dev.cortado.engine.EncoderRunner;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** An encoder run by ONNX Runtime Java (the generic engine and the test oracle). */
public final class OrtEncoder implements EncoderRunner {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final int maxPositions;

    public OrtEncoder(Path onnx, int maxPositions) {
        this(onnx, maxPositions, Runtime.getRuntime().availableProcessors());
    }

    public OrtEncoder(Path onnx, int maxPositions, int threads) {
        this.maxPositions = maxPositions;
        try {
            OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            opts.setIntraOpNumThreads(threads);
            this.session = env.createSession(onnx.toString(), opts);
        } catch (OrtException e) {
            throw new CortadoException("ONNX Runtime cannot load " + onnx + ": " + e.getMessage(), e);
        }
    }

    @Override
    public float[][][] lastHiddenState(int[][] ids, int[][] typeIds, boolean[][] valid) {
        int b = ids.length, s = ids[0].length;
        long[][] idl = new long[b][s], mask = new long[b][s], types = new long[b][s];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < s; j++) {
                idl[i][j] = ids[i][j];
                mask[i][j] = valid[i][j] ? 1 : 0;
                types[i][j] = typeIds == null ? 0 : typeIds[i][j];
            }
        }
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            Map<String, NodeInfo> inputs = session.getInputInfo();
            for (String name : inputs.keySet()) {
                long[][] v = switch (name) {
                    case "input_ids" -> idl;
                    case "attention_mask" -> mask;
                    case "token_type_ids" -> types;
                    default -> throw new CortadoException("ONNX encoder input '" + name + "' is not one Cortado knows (input_ids, attention_mask, token_type_ids)");
                };
                in.put(name, OnnxTensor.createTensor(env, v));
            }
            try (OrtSession.Result r = session.run(in)) {
                Object out = r.get(0).getValue();
                if (out instanceof float[][][] h) return h;
                throw new CortadoException("ONNX encoder's first output is not a float [B, S, D] tensor");
            }
        } catch (OrtException e) {
            throw new CortadoException("ONNX Runtime failed: " + e.getMessage(), e);
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    @Override
    public int maxPositions() {
        return maxPositions;
    }

    @Override
    public String describe() {
        return "onnxruntime " + env.getVersion();
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new CortadoException("closing ONNX Runtime session: " + e.getMessage(), e);
        }
    }
}
