package dev.cortado.ort;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.cortado.CortadoException;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A decoder-only Optimum export ({@code input_ids, attention_mask, position_ids?, past_key_values.N.key|value →
 * logits, present.N.key|value}) run by ONNX Runtime Java: the generic engine for graphs no family recognizes and
 * the oracle in tests. The same generation code runs on top.
 */
public final class OrtDecoder implements LanguageModel {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final int layers, kvHeads, headDim, vocab, maxPositions;
    private final boolean hasPositionIds;

    public OrtDecoder(Path onnx, int maxPositions) {
        this.maxPositions = maxPositions;
        try {
            OrtSession.SessionOptions o = new OrtSession.SessionOptions();
            o.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
            session = env.createSession(onnx.toString(), o);
            Map<String, NodeInfo> in = session.getInputInfo();
            int n = 0;
            while (in.containsKey("past_key_values." + n + ".key")) n++;
            if (n == 0 || !in.containsKey("input_ids")) {
                throw new CortadoException(onnx.getFileName() + " is not a decoder with past_key_values.N.key inputs");
            }
            layers = n;
            long[] kvShape = ((TensorInfo) in.get("past_key_values.0.key").getInfo()).getShape();
            kvHeads = (int) kvShape[1];
            headDim = (int) kvShape[3];
            long[] lshape = ((TensorInfo) session.getOutputInfo().get("logits").getInfo()).getShape();
            vocab = (int) lshape[2];
            hasPositionIds = in.containsKey("position_ids");
            if (kvHeads <= 0 || headDim <= 0 || vocab <= 0) {
                throw new CortadoException(onnx.getFileName() + ": KV heads, head size and vocabulary must be static dimensions");
            }
        } catch (OrtException e) {
            throw new CortadoException("ONNX Runtime cannot load " + onnx + ": " + e.getMessage(), e);
        }
    }

    @Override public int vocabSize() { return vocab; }
    @Override public int maxPositions() { return maxPositions; }

    @Override
    public DecoderSession newSession(int batch) {
        return new Session(batch);
    }

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
        private float[][] past = new float[2 * layers][0];
        private final List<Long>[] mask;
        private final int[] nextPos;
        private int length;

        @SuppressWarnings("unchecked")
        Session(int rows) {
            this.rows = rows;
            this.mask = new List[rows];
            for (int r = 0; r < rows; r++) mask[r] = new ArrayList<>();
            this.nextPos = new int[rows];
        }

        @Override
        public float[][] step(int[][] tokens, boolean[][] valid) {
            int n = tokens[0].length;
            if (length + n > maxPositions) {
                throw new CortadoException("sequence of " + (length + n) + " tokens exceeds the model's context of " + maxPositions + " positions");
            }
            long[] ids = new long[rows * n], pos = new long[rows * n];
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < n; j++) {
                    boolean ok = valid == null || valid[r][j];
                    ids[r * n + j] = tokens[r][j];
                    pos[r * n + j] = ok ? nextPos[r]++ : 1;
                    mask[r].add(ok ? 1L : 0L);
                }
            }
            long[] m = new long[rows * (length + n)];
            for (int r = 0; r < rows; r++) for (int j = 0; j < length + n; j++) m[r * (length + n) + j] = mask[r].get(j);
            Map<String, OnnxTensor> in = new HashMap<>();
            try {
                in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {rows, n}));
                in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(m), new long[] {rows, length + n}));
                if (hasPositionIds) in.put("position_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(pos), new long[] {rows, n}));
                long[] pshape = {rows, kvHeads, length, headDim};
                for (int l = 0; l < layers; l++) {
                    in.put("past_key_values." + l + ".key", OnnxTensor.createTensor(env, FloatBuffer.wrap(past[2 * l]), pshape));
                    in.put("past_key_values." + l + ".value", OnnxTensor.createTensor(env, FloatBuffer.wrap(past[2 * l + 1]), pshape));
                }
                try (OrtSession.Result res = session.run(in)) {
                    float[][][] logits = (float[][][]) res.get("logits").orElseThrow().getValue();
                    for (int l = 0; l < layers; l++) {
                        past[2 * l] = flat((OnnxTensor) res.get("present." + l + ".key").orElseThrow());
                        past[2 * l + 1] = flat((OnnxTensor) res.get("present." + l + ".value").orElseThrow());
                    }
                    length += n;
                    float[][] out = new float[rows][];
                    for (int r = 0; r < rows; r++) out[r] = logits[r][n - 1];
                    return out;
                }
            } catch (OrtException e) {
                throw new CortadoException("ONNX Runtime failed: " + e.getMessage(), e);
            } finally {
                in.values().forEach(OnnxTensor::close);
            }
        }

        private static float[] flat(OnnxTensor t) {
            FloatBuffer b = t.getFloatBuffer();
            float[] a = new float[b.remaining()];
            b.get(a);
            return a;
        }

        @Override
        public void reorder(int[] sources) {
            int per = kvHeads * length * headDim;
            for (int i = 0; i < past.length; i++) {
                float[] p = new float[past[i].length];
                for (int r = 0; r < rows; r++) System.arraycopy(past[i], sources[r] * per, p, r * per, per);
                past[i] = p;
            }
            List<Long>[] old = mask.clone();
            int[] oldPos = nextPos.clone();
            for (int r = 0; r < rows; r++) {
                mask[r] = new ArrayList<>(old[sources[r]]);
                nextPos[r] = oldPos[sources[r]];
            }
        }

        @Override public int rows() { return rows; }
        @Override public int length() { return length; }
    }
}
