package dev.cortado.engine;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import dev.cortado.layers.Attention;
import dev.cortado.layers.DecoderLayer;
import dev.cortado.layers.TransformerEncoder;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Cortado's encoder-decoder engine (T5, BART, Marian): the shared {@link TransformerEncoder} runs once per batch
 * of sources; each decoder layer's cross-attention K/V are projected once from the encoder output and shared by
 * every step and beam of that source.
 */
public final class Seq2SeqModel implements Seq2Seq {
    private final Backend backend;
    private final TransformerEncoder encoder;
    private final DecoderModel decoder;
    private final int maxSource;
    private final String description;
    private int encoderRuns, crossRuns;

    public Seq2SeqModel(Backend backend, TransformerEncoder encoder, DecoderModel decoder, int maxSource, String description) {
        this.backend = backend;
        this.encoder = encoder;
        this.decoder = decoder;
        this.maxSource = maxSource;
        this.description = description;
    }

    record Enc(Tensor hidden, boolean[][] valid, int batch) implements Encoded {}

    @Override
    public Encoded encode(int[][] ids, boolean[][] valid) {
        encoderRuns++;
        try (Backend.Scope scope = backend.scope()) {
            return new Enc(scope.keep(encoder.forward(backend, ids, null, valid)), valid, ids.length);
        }
    }

    /**
     * An encoder output computed by a family's own input stem (Whisper: conv stem over log-mel features, then
     * {@link TransformerEncoder#forwardEmbedded}); hidden [B, S, D] owned by the caller's kept scope.
     */
    public Encoded encoded(Tensor hidden, boolean[][] valid) {
        encoderRuns++;
        return new Enc(hidden, valid, (int) hidden.dim(0));
    }

    @Override
    public LanguageModel bind(Encoded encoded, int per) {
        Enc e = (Enc) encoded;
        return new LanguageModel() {
            @Override public int vocabSize() { return decoder.vocabSize(); }
            @Override public int maxPositions() { return decoder.maxPositions(); }
            @Override public DecoderSession newSession(int rows) {
                if (rows != e.batch() * per) throw new IllegalArgumentException("rows " + rows + " != " + e.batch() + " × " + per);
                return decoder.newSession(rows, cross(e, per));
            }
        };
    }

    private List<DecoderLayer.Cross> cross(Enc e, int per) {
        crossRuns++;
        int b = e.batch(), s = (int) e.hidden().dim(1), rows = b * per;
        boolean[][] valid = new boolean[rows][];
        for (int r = 0; r < rows; r++) valid[r] = e.valid()[r / per];
        AttentionMask mask = new AttentionMask(valid, false, 0);
        List<DecoderLayer.Cross> out = new ArrayList<>();
        for (DecoderLayer layer : decoder.decoder().layers()) {
            Attention a = layer.crossAttention();
            Tensor k, v;
            try (Backend.Scope scope = backend.scope()) {
                Tensor[] kv = a.crossKv(backend, e.hidden());
                k = scope.keep(expand(kv[0], per));
                v = scope.keep(expand(kv[1], per));
            }
            out.add(new DecoderLayer.Cross(KvView.ofRows(k, s, a.kvHeads(), a.headDim()), KvView.ofRows(v, s, a.kvHeads(), a.headDim()),
                    s, mask, null));
        }
        return out;
    }

    /** [B, S, C] → [B·per, S, C], each source repeated per times (beams of one source share identical K/V). */
    private Tensor expand(Tensor t, int per) {
        if (per == 1) return t;
        long b = t.dim(0), s = t.dim(1), c = t.dim(2);
        Tensor out = backend.allocate(DType.F32, b * per, s, c);
        long bytes = s * c * backend.elementBytes(t.dtype());
        for (long r = 0; r < b * per; r++) backend.copy(t, (r / per) * bytes, out, r * bytes, bytes);
        return out;
    }

    /** The encoder layers (Whisper runs them over its conv stem's output). */
    public TransformerEncoder encoderLayers() { return encoder; }

    /** The encoder and decoder, for the serving engine (which runs them in its own batches). */
    TransformerEncoder encoder() { return encoder; }
    /** The decoder half (a {@link DecoderModel} bound to cross-attention per request). */
    public DecoderModel decoderModel() { return decoder; }

    @Override public int encoderRuns() { return encoderRuns; }
    @Override public int crossKvComputations() { return crossRuns; }
    @Override public int maxSourcePositions() { return maxSource; }
    @Override public int vocabSize() { return decoder.vocabSize(); }
    @Override public String describe() { return description + ", backend " + backend.name(); }

    @Override
    public void close() {
        decoder.close();
    }
}
