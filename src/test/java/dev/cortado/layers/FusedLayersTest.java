package dev.cortado.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.Backend;
import dev.cortado.backend.KvView;
import dev.cortado.backend.Step;
import dev.cortado.backend.StepMetadata;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.model.Fusion;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Fused projections (q|k|v, gate|up) and the residual add inside the norm compute what the separate ops compute, on
 * the CPU backend and through the generic {@link Backend} defaults (a backend that only has the unfused ops).
 */
class FusedLayersTest {
    static final int D = 24, HEADS = 3, KV_HEADS = 1, HD = 8, INTER = 40;
    final Random r = new Random(3);

    float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian() * 0.3f;
        return a;
    }

    Tensor host(int out, int in) {
        return Tensor.of(rand(out * in), out, in);
    }

    /** Everything CpuBackend does, but without its step/fused overrides: the Backend defaults run. */
    static Backend plain(CpuBackend cpu) {
        return (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, m, args) -> {
                    boolean fusedOrStep = switch (m.getName()) {
                        case "addLayerNorm", "addRmsNorm" -> true;
                        case "gatedActivate" -> args[1] instanceof Backend.Activation;
                        case "rope" -> args[5] instanceof Step;
                        case "writeKv" -> args.length == 7;
                        case "attention" -> args[5] instanceof Step;
                        case "selfAttention" -> true;
                        default -> false;
                    };
                    if (fusedOrStep) return java.lang.reflect.InvocationHandler.invokeDefault(proxy, m, args);
                    return m.invoke(cpu, args);
                });
    }

    @Test
    void fusedAttentionAndMlpMatchSeparateProjections() throws Exception {
        CpuBackend cpu = new CpuBackend();
        Tensor wq = host(HEADS * HD, D), wk = host(KV_HEADS * HD, D), wv = host(KV_HEADS * HD, D), wo = host(D, HEADS * HD);
        Tensor gate = host(INTER, D), up = host(INTER, D), down = host(D, INTER);
        int batch = 2, seq = 5;
        Tensor x = Tensor.of(rand(batch * seq * D), batch, seq, D);
        boolean[][] valid = {{true, true, true, true, true}, {true, true, true, false, false}};
        int[] pos = new int[batch * seq];
        for (int i = 0; i < pos.length; i++) pos[i] = i % seq;
        for (Backend be : new Backend[] {cpu, plain(cpu)}) {
            Attention.Rotary rot = Attention.Rotary.standard(HD, 10000);
            Attention separate = new Attention(new Linear(be.weightTransposed(wq), null), new Linear(be.weightTransposed(wk), null),
                    new Linear(be.weightTransposed(wv), null), new Linear(be.weightTransposed(wo), null), HEADS, KV_HEADS, HD, 0.35f, rot);
            Attention fused = Attention.fused(new Linear(be.weightTransposed(Fusion.concatRows(List.of(wq, wk, wv))), null),
                    new Linear(be.weightTransposed(wo), null), HEADS, KV_HEADS, HD, 0.35f, rot);
            Mlp mlpSeparate = new Mlp(new Linear(be.weightTransposed(up), null), new Linear(be.weightTransposed(gate), null),
                    new Linear(be.weightTransposed(down), null), Backend.Activation.SILU);
            Mlp mlpFused = Mlp.fused(new Linear(be.weightTransposed(Fusion.concatRows(List.of(gate, up))), null),
                    new Linear(be.weightTransposed(down), null), Backend.Activation.SILU);
            StepMetadata meta = new StepMetadata(batch, seq, null, null, pos,
                    new StepMetadata.Attn(KvView.ofRows(null, seq, KV_HEADS, HD), 0, null, seq, new AttentionMask(valid, true, 0)), null);
            try (Step step = be.beginStep(meta)) {
                close(be.toHost(separate.forward(be, x, step, null)), be.toHost(fused.forward(be, x, step, null)));
                // cached: a paged pool written by the step, then attended
                int[][] blocks = {{1}, {0}};
                Tensor kp = be.allocate(DType.F32, 2, 16, KV_HEADS, HD), vp = be.allocate(DType.F32, 2, 16, KV_HEADS, HD);
                Tensor kp2 = be.allocate(DType.F32, 2, 16, KV_HEADS, HD), vp2 = be.allocate(DType.F32, 2, 16, KV_HEADS, HD);
                StepMetadata cm = new StepMetadata(batch, seq, null, null, pos, new StepMetadata.Attn(KvView.paged(null, KV_HEADS, 16, HD, blocks),
                        0, null, seq, new AttentionMask(valid, true, 0)), null);
                try (Step cs = be.beginStep(cm)) {
                    float[] a = be.toHost(separate.forwardCached(be, x, KvView.paged(kp, KV_HEADS, 16, HD, blocks), KvView.paged(vp, KV_HEADS, 16, HD, blocks), cs, null));
                    float[] b = be.toHost(fused.forwardCached(be, x, KvView.paged(kp2, KV_HEADS, 16, HD, blocks), KvView.paged(vp2, KV_HEADS, 16, HD, blocks), cs, null));
                    close(a, b);
                    close(be.toHost(kp), be.toHost(kp2));
                    close(be.toHost(vp), be.toHost(vp2));
                }
            }
            close(be.toHost(mlpSeparate.forward(be, x)), be.toHost(mlpFused.forward(be, x)));
        }
    }

    @Test
    void residualAddInsideTheNormEqualsAddThenNorm() {
        CpuBackend cpu = new CpuBackend();
        for (Backend be : new Backend[] {cpu, plain(cpu)}) {
            for (Norm.Kind kind : Norm.Kind.values()) {
                Norm n = new Norm(kind, be.weight(Tensor.of(rand(D), D)), kind == Norm.Kind.LAYER ? be.weight(Tensor.of(rand(D), D)) : null, 1e-5f);
                float[] xs = rand(4 * D), ys = rand(4 * D);
                Tensor x1 = Tensor.of(xs.clone(), 4, D), y1 = Tensor.of(ys.clone(), 4, D);
                be.add(x1, y1, x1);
                float[] want = be.toHost(n.forward(be, x1));
                Tensor x2 = Tensor.of(xs.clone(), 4, D);
                float[] got = be.toHost(n.addForward(be, x2, Tensor.of(ys.clone(), 4, D)));
                close(want, got);
                close(be.toHost(x1), be.toHost(x2));
                Tensor y3 = Tensor.of(ys.clone(), 4, D);
                n.addApply(be, y3, Tensor.of(xs.clone(), 4, D));
                close(want, be.toHost(y3));
            }
        }
    }

    static void close(float[] want, float[] got) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-5f + 1e-5f * Math.abs(want[i]), "element " + i);
    }
}
