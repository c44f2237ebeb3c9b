package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.KvView;
import dev.cortado.backend.Step;
import dev.cortado.backend.StepMetadata;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Encoder self-attention over a fused q|k|v projection: the CPU backend reads keys and values in place from the
 * projection's rows ({@link CpuBackend#selfAttention}); the contract's way copies them into contiguous K/V first
 * (writeKv) and runs attention. The same kernels over the same numbers: the results are bit-identical, with padding,
 * GQA, ragged query tiles and the head size of the tiled kernels (32) as well as one they do not take (24).
 */
class InPlaceSelfAttentionTest {
    @Test
    void inPlaceEqualsCopyThenAttend() {
        Random r = new Random(5);
        CpuBackend be = new CpuBackend(new WorkerPool(2));
        for (int[] c : new int[][] {{4, 4, 32}, {6, 2, 32}, {4, 4, 24}}) {
            int heads = c[0], kvHeads = c[1], hd = c[2], batch = 3, seq = 21, cols = (heads + 2 * kvHeads) * hd;
            float[] a = new float[batch * seq * cols];
            for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
            Tensor qkv = Tensor.of(a, batch, seq, cols);
            boolean[][] valid = new boolean[batch][seq];
            for (int b = 0; b < batch; b++) for (int j = 0; j < seq; j++) valid[b][j] = b != 1 || j < 13;
            int[] pos = new int[batch * seq];
            for (int i = 0; i < pos.length; i++) pos[i] = i % seq;
            StepMetadata meta = new StepMetadata(batch, seq, null, null, pos,
                    new StepMetadata.Attn(KvView.ofRows(null, seq, kvHeads, hd), 0, null, seq, new AttentionMask(valid, false, 0)), null);
            try (Step step = be.beginStep(meta)) {
                Tensor inPlace = be.allocate(DType.F32, batch, seq, (long) heads * hd);
                be.selfAttention(qkv, heads, kvHeads, hd, step, 0.3f, null, inPlace);
                Tensor kc = be.allocate(DType.F32, batch, seq, (long) kvHeads * hd), vc = be.allocate(DType.F32, batch, seq, (long) kvHeads * hd);
                KvView kv = KvView.ofRows(kc, seq, kvHeads, hd), vv = KvView.ofRows(vc, seq, kvHeads, hd);
                be.writeKv(qkv, heads * hd, qkv, (heads + kvHeads) * hd, kv, vv, step);
                Tensor copied = be.allocate(DType.F32, batch, seq, (long) heads * hd);
                be.attention(qkv, heads, hd, kv, vv, step, false, 0.3f, null, copied);
                float[] want = be.toHost(copied), got = be.toHost(inPlace);
                assertEquals(want.length, got.length);
                assertArrayEquals(want, got, "heads " + heads + ", kv heads " + kvHeads + ", head size " + hd);
            }
        }
    }
}
