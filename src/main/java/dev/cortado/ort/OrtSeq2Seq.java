package dev.cortado.ort;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.cortado.CortadoException;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * An Optimum seq2seq export (encoder_model.onnx, decoder_model.onnx, decoder_with_past_model.onnx) run by ONNX
 * Runtime Java. The encoder runs once per batch of sources; the cross-attention K/V come out of the first decoder
 * call once and are reused (and reordered with the beams), so generation code is the same as for decoders.
 */
public final class OrtSeq2Seq implements Seq2Seq {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession encoder, decoder, decoderWithPast;
    private final int layers, vocab, maxPositions;
    private int encoderRuns, crossRuns;

    public OrtSeq2Seq(Path dir, int maxPositions) {
        this.maxPositions = maxPositions;
        for (String f : new String[] {"encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx"}) {
            if (!Files.isRegularFile(dir.resolve(f))) throw new CortadoException("model folder " + dir + " is missing " + f);
        }
        try {
            OrtSession.SessionOptions o = new OrtSession.SessionOptions();
            o.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
            encoder = env.createSession(dir.resolve("encoder_model.onnx").toString(), o);
            decoder = env.createSession(dir.resolve("decoder_model.onnx").toString(), o);
            decoderWithPast = env.createSession(dir.resolve("decoder_with_past_model.onnx").toString(), o);
            int n = 0;
            while (decoderWithPast.getInputInfo().containsKey("past_key_values." + n + ".decoder.key")) n++;
            layers = n;
            long[] ls = ((ai.onnxruntime.TensorInfo) decoder.getOutputInfo().get("logits").getInfo()).getShape();
            vocab = (int) ls[2];
        } catch (OrtException e) {
            throw new CortadoException("ONNX Runtime cannot load " + dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public int encoderRuns() {
        return encoderRuns;
    }

    @Override
    public int crossKvComputations() {
        return crossRuns;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int maxSourcePositions() {
        return maxPositions;
    }

    @Override
    public String describe() {
        return "onnxruntime " + env.getVersion() + " (encoder + decoder + decoder_with_past)";
    }

    /** Encoder output for a batch of sources. */
    public record Enc(float[] hidden, long[] mask, int batch, int seq, int dim) implements Encoded {}

    @Override
    public Encoded encode(int[][] ids, boolean[][] valid) {
        int b = ids.length, s = ids[0].length;
        long[] idl = new long[b * s], m = new long[b * s];
        for (int i = 0; i < b; i++) for (int j = 0; j < s; j++) {
            idl[i * s + j] = ids[i][j];
            m[i * s + j] = valid[i][j] ? 1 : 0;
        }
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(idl), new long[] {b, s}));
            in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(m), new long[] {b, s}));
            try (OrtSession.Result r = encoder.run(in)) {
                encoderRuns++;
                OnnxTensor h = (OnnxTensor) r.get(0);
                long[] shape = h.getInfo().getShape();
                return new Enc(flat(h), m, b, s, (int) shape[2]);
            }
        } catch (OrtException e) {
            throw new CortadoException("ONNX Runtime encoder failed: " + e.getMessage(), e);
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    /** A decoder bound to encoded sources; session row r decodes source r / rowsPerSource. */
    @Override
    public LanguageModel bind(Encoded encoded, int rowsPerSource) {
        Enc enc = (Enc) encoded;
        return new LanguageModel() {
            @Override public int vocabSize() { return vocab; }
            @Override public int maxPositions() { return maxPositions; }
            @Override public DecoderSession newSession(int rows) {
                if (rows != enc.batch() * rowsPerSource) {
                    throw new IllegalArgumentException("session rows " + rows + " != sources " + enc.batch() + " × " + rowsPerSource);
                }
                return new Session(enc, rowsPerSource);
            }
        };
    }

    private static float[] flat(OnnxTensor t) {
        FloatBuffer b = t.getFloatBuffer();
        float[] a = new float[b.remaining()];
        b.get(a);
        return a;
    }

    private final class Session implements DecoderSession {
        private final int rows, s, d;
        private float[] hidden;
        private long[] encMask;
        private final float[][] selfKv = new float[2 * layers][];
        private final float[][] crossKv = new float[2 * layers][];
        private final long[][] kvShapes = new long[4 * layers][];
        private int length;

        Session(Enc enc, int per) {
            rows = enc.batch() * per;
            s = enc.seq();
            d = enc.dim();
            hidden = new float[rows * s * d];
            encMask = new long[rows * s];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(enc.hidden(), (r / per) * s * d, hidden, r * s * d, s * d);
                System.arraycopy(enc.mask(), (r / per) * s, encMask, r * s, s);
            }
        }

        @Override
        public float[][] step(int[][] tokens, boolean[][] valid) {
            int n = tokens[0].length;
            if (length + n > maxPositions) throw new CortadoException("output longer than the decoder's " + maxPositions + " positions");
            long[] ids = new long[rows * n];
            for (int r = 0; r < rows; r++) for (int j = 0; j < n; j++) ids[r * n + j] = tokens[r][j];
            Map<String, OnnxTensor> in = new HashMap<>();
            try {
                in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {rows, n}));
                in.put("encoder_attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(encMask), new long[] {rows, s}));
                OrtSession sess;
                if (length == 0) {
                    crossRuns++;
                    sess = decoder;
                    in.put("encoder_hidden_states", OnnxTensor.createTensor(env, FloatBuffer.wrap(hidden), new long[] {rows, s, d}));
                } else {
                    sess = decoderWithPast;
                    for (int l = 0; l < layers; l++) {
                        put(in, "past_key_values." + l + ".decoder.key", selfKv[2 * l], kvShapes[4 * l]);
                        put(in, "past_key_values." + l + ".decoder.value", selfKv[2 * l + 1], kvShapes[4 * l + 1]);
                        put(in, "past_key_values." + l + ".encoder.key", crossKv[2 * l], kvShapes[4 * l + 2]);
                        put(in, "past_key_values." + l + ".encoder.value", crossKv[2 * l + 1], kvShapes[4 * l + 3]);
                    }
                }
                try (OrtSession.Result res = sess.run(in)) {
                    float[][][] logits = (float[][][]) res.get("logits").orElseThrow().getValue();
                    for (int l = 0; l < layers; l++) {
                        take(res, "present." + l + ".decoder.key", selfKv, 2 * l, 4 * l);
                        take(res, "present." + l + ".decoder.value", selfKv, 2 * l + 1, 4 * l + 1);
                        if (length == 0) {
                            take(res, "present." + l + ".encoder.key", crossKv, 2 * l, 4 * l + 2);
                            take(res, "present." + l + ".encoder.value", crossKv, 2 * l + 1, 4 * l + 3);
                        }
                    }
                    length += n;
                    float[][] out = new float[rows][];
                    for (int r = 0; r < rows; r++) out[r] = logits[r][n - 1];
                    return out;
                }
            } catch (OrtException e) {
                throw new CortadoException("ONNX Runtime decoder failed: " + e.getMessage(), e);
            } finally {
                in.values().forEach(OnnxTensor::close);
            }
        }

        private void put(Map<String, OnnxTensor> in, String name, float[] data, long[] shape) throws OrtException {
            in.put(name, OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape));
        }

        private void take(OrtSession.Result res, String name, float[][] into, int slot, int shapeSlot) throws OrtException {
            OnnxValue v = res.get(name).orElseThrow(() -> new CortadoException("decoder output " + name + " missing"));
            into[slot] = flat((OnnxTensor) v);
            kvShapes[shapeSlot] = ((OnnxTensor) v).getInfo().getShape();
        }

        @Override
        public void reorder(int[] sources) {
            for (float[][] kv : new float[][][] {selfKv, crossKv}) {
                for (int i = 0; i < kv.length; i++) {
                    if (kv[i] == null) continue;
                    int per = kv[i].length / rows;
                    float[] p = new float[kv[i].length];
                    for (int r = 0; r < rows; r++) System.arraycopy(kv[i], sources[r] * per, p, r * per, per);
                    kv[i] = p;
                }
            }
            float[] h = new float[hidden.length];
            long[] m = new long[encMask.length];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(hidden, sources[r] * s * d, h, r * s * d, s * d);
                System.arraycopy(encMask, sources[r] * s, m, r * s, s);
            }
            hidden = h;
            encMask = m;
        }

        @Override public int rows() { return rows; }
        @Override public int length() { return length; }
    }

    @Override
    public void close() {
        try {
            encoder.close();
            decoder.close();
            decoderWithPast.close();
        } catch (OrtException e) {
            throw new CortadoException("closing ONNX Runtime sessions: " + e.getMessage(), e);
        }
    }
}
