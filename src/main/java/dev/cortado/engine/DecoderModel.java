package dev.cortado.engine;

import dev.cortado.CortadoException;
import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import dev.cortado.kv.KvCache;
import dev.cortado.layers.DecoderLayer;
import dev.cortado.layers.TransformerDecoder;
import java.util.List;
import dev.cortado.tensor.Tensor;

/** A decoder-only model on Cortado's engine: any family's {@link TransformerDecoder} plus a backend. */
public final class DecoderModel implements LanguageModel {
    private final Backend backend;
    private final TransformerDecoder decoder;
    private final int vocab;
    private final String description;
    private final AutoCloseable resources;
    /** Preallocated caches returned by closed sessions, reused by the next session with the same row count. */
    private final java.util.Map<Integer, KvCache> idle = new java.util.concurrent.ConcurrentHashMap<>();

    public DecoderModel(Backend backend, TransformerDecoder decoder, String description, AutoCloseable resources) {
        this.backend = backend;
        this.decoder = decoder;
        this.vocab = decoder.lmHead().out();
        this.description = description;
        this.resources = resources;
    }

    public String describe() {
        return description + ", backend " + backend.name();
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int maxPositions() {
        return decoder.maxPositions();
    }

    @Override
    public DecoderSession newSession(int batch) {
        return new Session(batch, null);
    }

    /** A session whose layers also attend to precomputed cross-attention K/V (seq2seq decoders). */
    public DecoderSession newSession(int batch, List<DecoderLayer.Cross> cross) {
        return new Session(batch, cross);
    }

    public TransformerDecoder decoder() {
        return decoder;
    }

    public Backend backend() {
        return backend;
    }

    @Override
    public void close() {
        idle.values().forEach(KvCache::free);
        idle.clear();
        try {
            if (resources != null) resources.close();
        } catch (Exception e) {
            throw new CortadoException("closing model: " + e.getMessage(), e);
        }
        backend.close();
    }

    private final class Session implements DecoderSession {
        private final int rows;
        private final KvCache cache;
        private final List<DecoderLayer.Cross> cross;
        private boolean[][] valid;
        private int[] nextPos;
        private int length;

        Session(int rows, List<DecoderLayer.Cross> cross) {
            this.rows = rows;
            this.cross = cross;
            int cap = decoder.maxPositions();
            KvCache reused = idle.remove(rows);
            this.cache = reused != null ? reused
                    : new KvCache(backend, decoder.layers().size(), rows, decoder.kvHeads(), cap, decoder.headDim());
            this.valid = new boolean[rows][cap];
            this.nextPos = new int[rows];
        }

        @Override
        public float[][] step(int[][] tokens, boolean[][] validIn) {
            return run(tokens, validIn, null, null);
        }

        /** The greedy pick on the backend: ids and log-probabilities come back, not logits. */
        @Override
        public dev.cortado.backend.Greedy stepGreedy(int[][] tokens, boolean[][] validIn) {
            dev.cortado.backend.Greedy[] g = new dev.cortado.backend.Greedy[1];
            run(tokens, validIn, g);
            return g[0];
        }

        /** The step's token choice on the backend ({@link Backend#choose}): only the choices come back. */
        @Override
        public dev.cortado.backend.Choices choose(int[][] tokens, boolean[][] validIn,
                                                  dev.cortado.backend.TokenChoice choice) {
            Object[] out = new Object[1];
            run(tokens, validIn, out, choice);
            return (dev.cortado.backend.Choices) out[0];
        }

        private void run(int[][] tokens, boolean[][] validIn, dev.cortado.backend.Greedy[] greedy) {
            Object[] out = new Object[1];
            run(tokens, validIn, out, null);
            greedy[0] = (dev.cortado.backend.Greedy) out[0];
        }

        /** One step; the logits on the host [rows][vocab], or (picked set) the greedy picks or (choice set) the choices. */
        private float[][] run(int[][] tokens, boolean[][] validIn, Object[] picked, dev.cortado.backend.TokenChoice choice) {
            if (tokens.length != rows) throw new IllegalArgumentException("expected " + rows + " rows, got " + tokens.length);
            int n = tokens[0].length;
            if (length + n > cache.capacity()) {
                throw new CortadoException("sequence of " + (length + n) + " tokens exceeds the model's context of "
                        + cache.capacity() + " positions");
            }
            int[][] pos = new int[rows][n];
            int[] flat = new int[rows * n];
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < n; j++) {
                    boolean ok = validIn == null || validIn[r][j];
                    valid[r][length + j] = ok;
                    pos[r][j] = ok ? nextPos[r]++ : 0;
                    flat[r * n + j] = pos[r][j];
                }
            }
            cache.prepareWrite(length, n);
            AttentionMask mask = new AttentionMask(valid, true, length);
            float[][] all;
            try (Backend.Scope scope = backend.scope()) {
                Tensor logits = decoder.step(backend, tokens, pos, flat, cache, length, mask, cross);
                if (picked != null) {
                    picked[0] = choice != null ? backend.choose(logits, choice) : backend.greedy(logits);
                    backend.release(logits);   // read in place on the CPU: its array serves the next step's head
                    all = null;
                } else {
                    all = hostRows(logits);
                }
            }
            length += n;
            return all;
        }

        /**
         * The logits [rows, vocab] as host rows. One row is the array {@link Backend#takeHost} gives (on the CPU the
         * head's own output: no copy); several rows are copied out of it, and the tensor goes back to the backend.
         */
        private float[][] hostRows(Tensor logits) {
            float[] flat = backend.takeHost(logits);
            if (rows == 1 && flat.length == vocab) return new float[][] {flat};
            float[][] out = new float[rows][vocab];
            for (int r = 0; r < rows; r++) System.arraycopy(flat, r * vocab, out[r], 0, vocab);
            backend.release(logits);   // copied out (flat is not kept): its storage serves the next step's head
            return out;
        }

        @Override
        public void reorder(int[] sources) {
            cache.reorder(sources, length);
            boolean[][] v = new boolean[rows][];
            int[] p = new int[rows];
            for (int i = 0; i < rows; i++) {
                v[i] = valid[sources[i]].clone();
                p[i] = nextPos[sources[i]];
            }
            valid = v;
            nextPos = p;
        }

        @Override
        public int rows() {
            return rows;
        }

        /** Returns the preallocated cache for the next session with this many rows (freed when the model closes). */
        @Override
        public void close() {
            cache.reset();
            KvCache previous = idle.put(rows, cache);
            if (previous != null && previous != cache) previous.free();
        }

        @Override
        public int length() {
            return length;
        }
    }
}
