package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.KvView;
import dev.cortado.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Ops below the serial threshold run on the calling thread; each output element is computed by one thread either way,
 * so the results are bit-identical to the pooled ones (linears from a GEMV to a small GEMM, prefill and decode attention).
 */
class SerialThresholdTest {
    private final SplittableRandom r = new SplittableRandom(3);

    private float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    @Test
    void serialAndPooledOpsAgreeBitForBit() {
        WorkerPool pool = new WorkerPool(3);
        CpuBackend pooled = new CpuBackend(pool).serialBelow(0), serial = new CpuBackend(pool).serialBelow(Long.MAX_VALUE);
        // the default thresholds: a decode attention over >= PARALLEL_KV_BYTES of cache goes to the pool however few its
        // multiply-adds (the {1, 1, 700} shape below: 1 MB of keys and values)
        CpuBackend defaults = new CpuBackend(pool);
        for (int[] mkn : new int[][] {{1, 192, 192}, {1, 192, 8000}, {3, 64, 96}, {20, 192, 576}, {70, 48, 40}}) {
            int m = mkn[0], k = mkn[1], n = mkn[2];
            Tensor w = Tensor.of(rand(k * n), k, n), b = Tensor.of(rand(n), n), x = Tensor.of(rand(m * k), m, k);
            float[][] outs = new float[2][];
            int i = 0;
            for (CpuBackend be : new CpuBackend[] {pooled, serial}) {
                Tensor out = be.allocate(dev.cortado.tensor.DType.F32, m, n);
                be.linear(x, be.linearWeight(w), be.weight(b), out);
                outs[i++] = out.toFloatArray();
            }
            assertArrayEquals(outs[0], outs[1], "linear " + m + "x" + k + "x" + n);
        }
        for (int[] shape : new int[][] {{1, 20, 20}, {2, 1, 17}, {3, 9, 9}, {1, 1, 700}}) {
            int batch = shape[0], sq = shape[1], kvLen = shape[2], heads = 4, d = 48;
            Tensor q = Tensor.of(rand(batch * sq * heads * d), batch, sq, heads * d);
            Tensor k = Tensor.of(rand(batch * kvLen * heads * d), batch, kvLen, heads * d);
            Tensor v = Tensor.of(rand(batch * kvLen * heads * d), batch, kvLen, heads * d);
            KvView kv = KvView.ofRows(k, kvLen, heads, d), vv = KvView.ofRows(v, kvLen, heads, d);
            boolean[][] valid = new boolean[batch][kvLen];
            for (boolean[] row : valid) java.util.Arrays.fill(row, true);
            valid[batch - 1][0] = false;
            AttentionMask mask = new AttentionMask(valid, sq > 1, kvLen - sq);
            float[][] outs = new float[3][];
            int i = 0;
            for (CpuBackend be : new CpuBackend[] {pooled, serial, defaults}) {
                Tensor out = be.allocate(dev.cortado.tensor.DType.F32, batch, sq, heads * d);
                be.attention(q, heads, d, kv, vv, kvLen, mask, 0.144f, null, out);
                outs[i++] = out.toFloatArray();
            }
            assertArrayEquals(outs[0], outs[1], "attention " + batch + "x" + sq + "x" + kvLen);
            assertArrayEquals(outs[0], outs[2], "attention (default thresholds) " + batch + "x" + sq + "x" + kvLen);
        }
    }
}
