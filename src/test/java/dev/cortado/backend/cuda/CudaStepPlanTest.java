package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.backend.StepMetadata;
import dev.cortado.kv.KvCache;
import dev.cortado.layers.Attention;
import dev.cortado.layers.DecoderLayer;
import dev.cortado.layers.Embeddings;
import dev.cortado.layers.Linear;
import dev.cortado.layers.Mlp;
import dev.cortado.layers.Norm;
import dev.cortado.layers.TransformerDecoder;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend's per-step bookkeeping, checked without a device: a whole decoder runs on {@link CudaBackend}
 * over a {@link RecordingDevice} (real op code, fake addresses), and the backend's transfer counts show how many
 * host → device copies one decode step makes — at most 2 (the step's packed metadata; the T5 bias), the same for 1 and
 * 4 layers. {@link StepPlan}'s packing is checked against {@link KvView#offset}.
 */
class CudaStepPlanTest {
    static final int D = 16, HEADS = 2, KV_HEADS = 1, HD = 8, INTER = 32, VOCAB = 40, CAP = 64;

    static float[] rand(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian() * 0.1f;
        return a;
    }

    static Linear lin(Backend be, Random r, int out, int in) {
        return new Linear(be.weightTransposed(Tensor.of(rand(r, out * in), out, in)), null);
    }

    static Norm rms(Backend be, int d) {
        float[] g = new float[d];
        Arrays.fill(g, 1f);
        return new Norm(Norm.Kind.RMS, be.weight(Tensor.of(g, d)), null, 1e-5f);
    }

    /** A Llama-shaped decoder (RMS norms, rotary, GQA, SwiGLU), or with learned positions and cross-attention. */
    static TransformerDecoder decoder(Backend be, int layers, boolean seq2seq) {
        return decoder(be, layers, seq2seq, false);
    }

    /** With {@code fused}: q|k|v and gate|up concatenated at load (one projection each). */
    static TransformerDecoder decoder(Backend be, int layers, boolean seq2seq, boolean fused) {
        Random r = new Random(7);
        List<DecoderLayer> ls = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            Attention self = new Attention(lin(be, r, HEADS * HD, D), lin(be, r, KV_HEADS * HD, D), lin(be, r, KV_HEADS * HD, D),
                    lin(be, r, D, HEADS * HD), HEADS, KV_HEADS, HD, (float) (1 / Math.sqrt(HD)),
                    seq2seq ? null : Attention.Rotary.standard(HD, 10000));
            Attention cross = !seq2seq ? null : new Attention(lin(be, r, HEADS * HD, D), lin(be, r, KV_HEADS * HD, D),
                    lin(be, r, KV_HEADS * HD, D), lin(be, r, D, HEADS * HD), HEADS, KV_HEADS, HD, 0.3f, null);
            Mlp mlp = new Mlp(lin(be, r, INTER, D), lin(be, r, INTER, D), lin(be, r, D, INTER), Backend.Activation.SILU);
            if (fused) {
                self = Attention.fused(lin(be, r, (HEADS + 2 * KV_HEADS) * HD, D), self.o(), HEADS, KV_HEADS, HD, self.scale(), self.rotary());
                mlp = Mlp.fused(lin(be, r, 2 * INTER, D), mlp.down(), Backend.Activation.SILU);
            }
            ls.add(new DecoderLayer(self, rms(be, D), cross, seq2seq ? rms(be, D) : null, mlp, rms(be, D), !seq2seq));
        }
        Tensor positions = seq2seq ? be.weight(Tensor.of(rand(r, CAP * D), CAP, D)) : null;
        return new TransformerDecoder(new Embeddings(be.weight(Tensor.of(rand(r, VOCAB * D), VOCAB, D)), positions, 0, null, null, 1f),
                ls, rms(be, D), lin(be, r, VOCAB, D), 1f, KV_HEADS, HD, CAP, null);
    }

    /** Runs a 3-token prefill and three decode steps over 2 rows; returns the transfers of the last decode step. */
    static CudaBackend.Transfers decodeStep(CudaBackend be, RecordingDevice dev, int layers, boolean seq2seq, long[] launches) {
        return decodeStep(be, dev, layers, seq2seq, false, launches);
    }

    /** launches: kv writes, decode attentions, GEMVs, rope, add+rmsnorm of the last decode step. */
    static CudaBackend.Transfers decodeStep(CudaBackend be, RecordingDevice dev, int layers, boolean seq2seq, boolean fused,
                                            long[] launches) {
        TransformerDecoder dec = decoder(be, layers, seq2seq, fused);
        int rows = 2;
        KvCache cache = new KvCache(be, layers, rows, KV_HEADS, CAP, HD);
        List<DecoderLayer.Cross> cross = null;
        if (seq2seq) {
            int src = 5;
            Tensor k = be.allocate(DType.F32, rows, src, KV_HEADS * HD), v = be.allocate(DType.F32, rows, src, KV_HEADS * HD);
            boolean[][] valid = {{true, true, true, true, true}, {true, true, true, false, false}};
            cross = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                cross.add(new DecoderLayer.Cross(KvView.ofRows(k, src, KV_HEADS, HD), KvView.ofRows(v, src, KV_HEADS, HD), src,
                        new AttentionMask(valid, false, 0), null));
            }
        }
        boolean[][] valid = new boolean[rows][CAP];
        int length = 0;
        CudaBackend.Transfers last = null;
        int[] ns = {3, 1, 1, 1};
        for (int n : ns) {
            int[][] tokens = new int[rows][n], pos = new int[rows][n];
            int[] flat = new int[rows * n];
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < n; j++) {
                    tokens[r][j] = (r * 7 + j + length) % VOCAB;
                    pos[r][j] = length + j;
                    flat[r * n + j] = length + j;
                    valid[r][length + j] = true;
                }
            }
            cache.prepareWrite(length, n);
            CudaBackend.Transfers before = be.transfers();
            int mark = dev.launches.size();
            try (Backend.Scope s = be.scope()) {
                dec.step(be, tokens, pos, flat, cache, length, new AttentionMask(valid, true, length), cross);
            }
            last = be.transfers().minus(before);
            launches[0] = dev.count("kv_cache_write", mark);
            launches[1] = dev.count("attn_decode", mark) - dev.count("attn_decode_reduce", mark);
            if (launches.length > 2) {
                launches[2] = dev.count("gemv", mark);
                launches[3] = dev.count("rope", mark);
                launches[4] = dev.count("add_rmsnorm", mark);
            }
            length += n;
        }
        return last;
    }

    @Test
    void oneDecodeStepUploadsItsMetadataOnceWhateverTheLayerCount() {
        for (boolean seq2seq : new boolean[] {false, true}) {
            long[] counts = new long[2];
            for (int layers : new int[] {1, 4}) {
                RecordingDevice dev = new RecordingDevice();
                try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
                    long[] launches = new long[2];
                    CudaBackend.Transfers t = decodeStep(be, dev, layers, seq2seq, launches);
                    assertEquals(1, t.steps(), "one step bound per forward step");
                    assertTrue(t.hostToDevice() <= 2, "host → device copies per decode step: " + t);
                    assertEquals(1, t.hostToDevice(), "only the step's packed metadata goes up: " + t);
                    counts[layers == 1 ? 0 : 1] = t.hostToDevice();
                    assertEquals(layers, launches[0], "one KV write (keys and values) per layer");
                    assertEquals(layers * (seq2seq ? 2 : 1), launches[1], "decode attention launches");
                }
            }
            assertEquals(counts[0], counts[1], "independent of the number of layers");
        }
    }

    @Test
    void fusedProjectionsAndNormsLaunchOneKernelEach() {
        for (boolean fused : new boolean[] {false, true}) {
            int layers = 3;
            RecordingDevice dev = new RecordingDevice();
            try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
                long[] l = new long[5];
                CudaBackend.Transfers t = decodeStep(be, dev, layers, false, fused, l);
                assertEquals(1, t.hostToDevice(), "one upload per decode step: " + t);
                // per layer: q|k|v (or q, k, v), o, gate|up (or gate, up), down; plus the lm head
                assertEquals((fused ? 4 : 7) * layers + 1, l[2], "GEMV launches");
                assertEquals((fused ? 1 : 2) * layers, l[3], "rope launches (q and k in one when fused)");
                // the residual adds live in the norms: every norm but the first layer's first is add+rmsnorm
                assertEquals(2 * layers - 1, l[4], "add+rmsnorm launches");
            }
        }
    }

    @Test
    void anEncoderUploadsItsIdsPositionsAndMaskOnce() {
        for (int layers : new int[] {1, 3}) {
            RecordingDevice dev = new RecordingDevice();
            try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
                Random r = new Random(5);
                List<dev.cortado.layers.EncoderLayer> ls = new ArrayList<>();
                for (int l = 0; l < layers; l++) {
                    Attention a = Attention.fused(lin(be, r, 3 * HEADS * HD, D), lin(be, r, D, HEADS * HD), HEADS, HEADS, HD, 0.3f, null);
                    ls.add(new dev.cortado.layers.EncoderLayer(a, rms(be, D), new Mlp(lin(be, r, INTER, D), null, lin(be, r, D, INTER),
                            Backend.Activation.GELU_ERF), rms(be, D), false));
                }
                dev.cortado.layers.TransformerEncoder enc = new dev.cortado.layers.TransformerEncoder(new Embeddings(
                        be.weight(Tensor.of(rand(r, VOCAB * D), VOCAB, D)), be.weight(Tensor.of(rand(r, CAP * D), CAP, D)), 2, null,
                        rms(be, D), 1f), ls, null, null);
                CudaBackend.Transfers before = be.transfers();
                try (Backend.Scope s = be.scope()) {
                    enc.forward(be, new int[][] {{3, 4, 5, 6}, {7, 8, 0, 0}}, null,
                            new boolean[][] {{true, true, true, true}, {true, true, false, false}});
                }
                CudaBackend.Transfers t = be.transfers().minus(before);
                assertEquals(1, t.hostToDevice(), layers + " layers: " + t);
                assertEquals(1, t.steps());
            }
        }
    }

    @Test
    void greedyBringsBackIdsAndLogprobsNotLogits() {
        RecordingDevice dev = new RecordingDevice();
        try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
            Tensor logits = be.allocate(DType.F32, 3, 32000);
            CudaBackend.Transfers before = be.transfers();
            int mark = dev.launches.size();
            dev.cortado.backend.Greedy g = be.greedy(logits);
            CudaBackend.Transfers t = be.transfers().minus(before);
            assertEquals(3, g.ids().length);
            assertEquals(0, t.hostToDevice());
            assertEquals(1, t.deviceToHost(), "the ids and one float per row, in one copy: " + t);
            assertEquals(1, dev.count("argmax", mark));
            assertEquals(1, dev.count("chosen_logprob", mark), "the chosen log-probability, not a rows × vocab log-softmax");
            assertEquals(0, dev.count("log_softmax", mark));
        }
    }

    @Test
    void planPacksSlotsTablesLengthsAndMasksAsTheViewsAddressThem() {
        int[][] blocks = {{3, 1, -1}, {0, 2, 5}};
        KvView layout = KvView.paged(null, 2, 16, 8, blocks);
        boolean[][] valid = new boolean[2][20];
        for (boolean[] v : valid) Arrays.fill(v, 0, 18, true);
        valid[1][4] = false;
        int[] rowStarts = {17, 9};
        StepMetadata m = new StepMetadata(2, 1, new int[] {5, 6}, null, new int[] {17, 9},
                new StepMetadata.Attn(layout, 17, rowStarts, 18, new AttentionMask(valid, true, 17)), null);
        StepPlan p = StepPlan.of(m);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(p.bytes(), 16);
            p.fill(s);
            assertEquals(5, s.get(ValueLayout.JAVA_INT_UNALIGNED, p.tokenIds()));
            assertEquals(9, s.get(ValueLayout.JAVA_INT_UNALIGNED, p.ropePositions() + 4));
            assertEquals(-1, p.embedPositions());
            StepPlan.Section self = p.self();
            // row 0 position 17: block 1 of row 0 is physical block 1 → slot 1·16 + 1; row 1 position 9: block 0 → 0·16 + 9
            assertEquals(layout.offset(0, 0, 17) / 16, s.get(ValueLayout.JAVA_LONG_UNALIGNED, self.slots()));
            assertEquals(17L, s.get(ValueLayout.JAVA_LONG_UNALIGNED, self.slots()));
            assertEquals(9L, s.get(ValueLayout.JAVA_LONG_UNALIGNED, self.slots() + 8));
            assertEquals(3, self.maxBlocks());
            int[] table = new int[6];
            for (int i = 0; i < 6; i++) table[i] = s.get(ValueLayout.JAVA_INT_UNALIGNED, self.table() + 4L * i);
            assertEquals(List.of(3, 1, 0, 0, 2, 5), Arrays.stream(table).boxed().toList(), "unallocated blocks read as 0");
            assertEquals(18, s.get(ValueLayout.JAVA_INT_UNALIGNED, self.lens() + 4));
            assertEquals(1, s.get(ValueLayout.JAVA_BYTE, self.keyMask() + 18 + 3));
            assertEquals(0, s.get(ValueLayout.JAVA_BYTE, self.keyMask() + 18 + 4));
            assertEquals(1, s.get(ValueLayout.JAVA_BYTE, self.keyMask() + 17));
            assertTrue(p.bytes() % 16 == 0 && self.keyMask() + 36 <= p.bytes());
        }
    }
}
