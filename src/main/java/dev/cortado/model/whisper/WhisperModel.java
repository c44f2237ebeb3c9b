package dev.cortado.model.whisper;

import dev.cortado.CortadoException;
import dev.cortado.backend.Backend;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.engine.Seq2SeqModel;
import dev.cortado.engine.Source;
import dev.cortado.generate.LanguageModel;
import dev.cortado.layers.Conv1d;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;

/**
 * A Whisper model on Cortado's seq2seq engine: the conv stem and positions turn log-mel features into encoder
 * inputs, the shared {@code TransformerEncoder} layers run over them, and the decoder is bound to that encoding
 * exactly as for text seq2seq models (cross-attention K/V computed once per segment).
 */
public final class WhisperModel implements Seq2Seq {
    private final Backend be;
    private final WhisperConfig config;
    private final Conv1d conv1, conv2;
    private final Tensor positions;
    private final Seq2SeqModel s2s;

    WhisperModel(Backend be, WhisperConfig config, Conv1d conv1, Conv1d conv2, Tensor positions, Seq2SeqModel s2s) {
        this.be = be;
        this.config = config;
        this.conv1 = conv1;
        this.conv2 = conv2;
        this.positions = positions;
        this.s2s = s2s;
    }

    public WhisperConfig config() {
        return config;
    }

    /** Log-mel features [B][melBins][frames] (frames = 2 · max_source_positions for a 30 s window) → encoding. */
    public Encoded encodeFeatures(float[][][] mel) {
        try (Backend.Scope scope = be.scope()) {
            Tensor hidden = scope.keep(encoderHidden(mel));
            return s2s.encoded(hidden, allValid((int) hidden.dim(0), (int) hidden.dim(1)));
        }
    }

    /**
     * One window [melBins][frames] as an engine {@link Source}: the engine runs the conv stem and the encoder on its
     * scheduler thread, batched with its other work.
     */
    public Source source(float[][] window) {
        float[][][] mel = {window};
        return Source.encoded(config.maxSourcePositions(), backend -> encoderHidden(mel));
    }

    /** The text-seq2seq view of this model (encoder layers, decoder): what a serving engine runs. */
    public Seq2SeqModel seq2seq() {
        return s2s;
    }

    /** The encoder's last hidden state [B·S·D] on the host (tests, debugging). */
    public float[] encoderOutput(float[][][] mel) {
        try (Backend.Scope scope = be.scope()) {
            return be.toHost(encoderHidden(mel));
        }
    }

    /** Conv stem (conv1 + GELU, conv2 stride 2 + GELU), + positions, encoder layers, final norm; in the caller's scope. */
    private Tensor encoderHidden(float[][][] mel) {
        int b = mel.length;
        if (b == 0) throw new IllegalArgumentException("no features");
        int bins = mel[0].length, t = mel[0][0].length;
        if (bins != config.melBins())
            throw new CortadoException("features have " + bins + " mel bins but the model takes " + config.melBins()
                    + "; use the model's preprocessor_config.json");
        if (t != config.framesPerWindow())
            throw new CortadoException("features have " + t + " frames but the encoder takes " + config.framesPerWindow()
                    + " (pad or cut the audio to 30 s windows)");
        float[] host = new float[b * t * bins];
        for (int i = 0; i < b; i++)
            for (int m = 0; m < bins; m++)
                for (int j = 0; j < t; j++) host[(i * t + j) * bins + m] = mel[i][m][j];
        Tensor x = be.fromHost(host, b, t, bins);
        Tensor h = conv1.forward(be, x);
        be.activate(h, Backend.Activation.GELU_ERF);
        h = conv2.forward(be, h);
        be.activate(h, Backend.Activation.GELU_ERF);
        int s = (int) h.dim(1), d = (int) h.dim(2);
        Tensor pos = be.allocate(DType.F32, b, s, d);
        long bytes = (long) s * d * be.elementBytes(DType.F32);
        for (int i = 0; i < b; i++) be.copy(positions, 0, pos, i * bytes, bytes);
        be.add(h, pos, h);
        return s2s.encoderLayers().forwardEmbedded(be, h, null);
    }

    private static boolean[][] allValid(int b, int s) {
        boolean[][] v = new boolean[b][s];
        for (boolean[] r : v) java.util.Arrays.fill(r, true);
        return v;
    }

    @Override
    public Encoded encode(int[][] ids, boolean[][] valid) {
        throw new CortadoException("Whisper encodes audio, not token ids; use encodeFeatures (or cortado transcribe)");
    }

    @Override public LanguageModel bind(Encoded encoded, int rowsPerSource) { return s2s.bind(encoded, rowsPerSource); }
    @Override public int encoderRuns() { return s2s.encoderRuns(); }
    @Override public int crossKvComputations() { return s2s.crossKvComputations(); }
    @Override public int maxSourcePositions() { return config.maxSourcePositions(); }
    @Override public int vocabSize() { return s2s.vocabSize(); }
    @Override public String describe() { return s2s.describe(); }
    @Override public void close() { s2s.close(); }
}
