package dev.cortado.model.bert;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.cortado.engine.EncoderRunner;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** ONNX Runtime Java over an encoder at a chosen graph optimization level (the oracle of Int8EmbedderVsOrtTest). */
final class OrtLevelEncoder implements EncoderRunner {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;

    OrtLevelEncoder(Path onnx, OrtSession.SessionOptions.OptLevel level) throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setOptimizationLevel(level);
        session = env.createSession(onnx.toString(), o);
    }

    @Override
    public float[][][] lastHiddenState(int[][] ids, int[][] typeIds, boolean[][] valid) {
        int b = ids.length, s = ids[0].length;
        long[][] idl = new long[b][s], mask = new long[b][s], types = new long[b][s];
        for (int i = 0; i < b; i++) for (int j = 0; j < s; j++) {
            idl[i][j] = ids[i][j];
            mask[i][j] = valid[i][j] ? 1 : 0;
        }
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            in.put("input_ids", OnnxTensor.createTensor(env, idl));
            in.put("attention_mask", OnnxTensor.createTensor(env, mask));
            in.put("token_type_ids", OnnxTensor.createTensor(env, types));
            try (OrtSession.Result r = session.run(in)) {
                return (float[][][]) r.get(0).getValue();
            }
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    @Override public int maxPositions() { return 512; }
    @Override public String describe() { return "onnxruntime " + env.getVersion(); }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }
}
