package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cortado.backend.Backend;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.layers.Attention;
import dev.cortado.layers.Linear;
import dev.cortado.model.Fusion;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Cross-attention keys and values from one fused k|v projection (concatenated at load by {@link Fusion}): on the CPU
 * they equal the separate k and v projections; on the CUDA backend (recording stand-in) the encoder output is read by
 * one GEMM and split by one kernel.
 */
class CrossKvFusionTest {
    static final int D = 24, HEADS = 3, HD = 8, B = 2, S = 5;

    static Tensor rand(Random r, long... shape) {
        float[] a = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian() * 0.2f;
        return Tensor.of(a, shape);
    }

    static Attention[] attentions(Backend be) {
        Random r = new Random(11);
        Tensor q = rand(r, D, D), k = rand(r, D, D), v = rand(r, D, D), o = rand(r, D, D), kb = rand(r, D), vb = rand(r, D);
        Linear lq = new Linear(be.weightTransposed(q), null), lo = new Linear(be.weightTransposed(o), null);
        Attention separate = new Attention(lq, new Linear(be.weightTransposed(k), be.weight(kb)),
                new Linear(be.weightTransposed(v), be.weight(vb)), lo, HEADS, HEADS, HD, 0.3f, null);
        Linear kv = new Linear(be.weightTransposed(Fusion.concatRows(List.of(k, v))),
                be.weight(Fusion.concatBiases(java.util.Arrays.asList(kb, vb), new long[] {D, D})));
        return new Attention[] {separate, Attention.crossFused(lq, kv, lo, HEADS, HEADS, HD, 0.3f)};
    }

    @Test
    void fusedKvEqualsSeparateProjectionsOnTheCpu() {
        CpuBackend be = new CpuBackend();
        Attention[] a = attentions(be);
        Tensor x = rand(new Random(5), B, S, D);
        Tensor[] want = a[0].crossKv(be, x), got = a[1].crossKv(be, x);
        for (int t = 0; t < 2; t++) {
            assertEquals(List.of((long) B, (long) S, (long) D), java.util.Arrays.stream(got[t].shape()).boxed().toList());
            float[] w = be.toHost(want[t]), g = be.toHost(got[t]);
            for (int i = 0; i < w.length; i++) assertEquals(w[i], g[i], 1e-6f, (t == 0 ? "k" : "v") + " " + i);
        }
    }

    @Test
    void onCudaOneGemmAndOneSplitKernel() {
        RecordingDevice dev = new RecordingDevice();
        try (CudaBackend be = new CudaBackend(dev, DType.F32)) {
            Attention[] a = attentions(be);
            Tensor x = be.allocate(DType.F32, B, S, D);
            for (int fused = 0; fused < 2; fused++) {
                int mark = dev.launches.size();
                try (Backend.Scope s = be.scope()) {
                    Tensor[] kv = a[fused].crossKv(be, x);
                    assertEquals(D, kv[1].dim(2));
                }
                long gemms = dev.count("gemm", mark) + dev.count("gemv", mark);
                assertEquals(fused == 1 ? 1 : 2, gemms, "projections over the encoder output");
                assertEquals(fused, dev.count("kv_cache_write", mark), "the split");
            }
        }
    }
}
