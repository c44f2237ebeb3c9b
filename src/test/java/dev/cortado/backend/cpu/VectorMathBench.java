package dev.cortado.backend.cpu;

import static dev.cortado.backend.cpu.CpuActivations.K_TANH;

import dev.cortado.backend.Backend.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Not a test: in-process A/B of the activation and softmax kernels, {@link VectorMath} (now) vs the Vector API's SVML
 * {@code EXP}/{@code TANH} with {@code reduceLanes(ADD)} (the kernels before, copied here), interleaved rounds, medians:
 * {@code java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes dev.cortado.backend.cpu.VectorMathBench}
 * ({@code -Drounds=N}).
 */
public final class VectorMathBench {
    static final VectorSpecies<Float> F = CpuMatmul.F;
    static final int L = F.length();
    /** The A–S 7.1.26 erf constants of the GELU(erf) before (its copy here). */
    static final float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f,
            A5 = 1.061405429f, INV_SQRT2 = (float) (1 / Math.sqrt(2));

    static FloatVector oldGeluErf(FloatVector x) {
        FloatVector z = x.mul(INV_SQRT2), az = z.abs();
        FloatVector t = FloatVector.broadcast(F, 1f).div(az.mul(P).add(1f));
        FloatVector poly = t.mul(A5).add(A4).mul(t).add(A3).mul(t).add(A2).mul(t).add(A1).mul(t);
        FloatVector erfAbs = FloatVector.broadcast(F, 1f).sub(poly.mul(az.mul(az).neg().lanewise(VectorOperators.EXP)));
        FloatVector erf = erfAbs.blend(erfAbs.neg(), z.compare(VectorOperators.LT, 0f));
        return x.mul(0.5f).mul(erf.add(1f));
    }

    static FloatVector oldVector(FloatVector x, Activation act) {
        return switch (act) {
            case RELU -> x.max(0f);
            case SILU -> x.div(x.neg().lanewise(VectorOperators.EXP).add(1f));
            case GELU_TANH -> {
                FloatVector inner = x.mul(x).mul(x).mul(0.044715f).add(x).mul(K_TANH);
                yield x.mul(0.5f).mul(inner.lanewise(VectorOperators.TANH).add(1f));
            }
            case GELU_ERF -> oldGeluErf(x);
        };
    }

    static void oldApply(float[] a, int from, int to, Activation act) {
        int i = from;
        for (; i <= to - L; i += L) oldVector(FloatVector.fromArray(F, a, i), act).intoArray(a, i);
        for (; i < to; i++) a[i] = CpuActivations.scalar(a[i], act);
    }

    static float oldSoftmax(float[] s, int from, int n) {
        float max = Float.NEGATIVE_INFINITY;
        int end = from + n, m = from;
        if (n >= L) {
            FloatVector mx = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; m <= end - L; m += L) mx = mx.max(FloatVector.fromArray(F, s, m));
            max = mx.reduceLanes(VectorOperators.MAX);
        }
        for (int j = m; j < end; j++) if (s[j] > max) max = s[j];
        if (max == Float.NEGATIVE_INFINITY) return 0f;
        FloatVector mv = FloatVector.broadcast(F, max), acc = FloatVector.zero(F);
        int j = from;
        for (; j <= end - L; j += L) {
            FloatVector e = FloatVector.fromArray(F, s, j).sub(mv).lanewise(VectorOperators.EXP);
            e.intoArray(s, j);
            acc = acc.add(e);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; j < end; j++) {
            float e = (float) Math.exp(s[j] - max);
            s[j] = e;
            sum += e;
        }
        return (float) (1.0 / sum);
    }

    static float sink;

    static long act(boolean old, Activation act, float[] src, float[] a, int reps) {
        long t0 = System.nanoTime();
        for (int r = 0; r < reps; r++) {
            System.arraycopy(src, 0, a, 0, a.length);
            if (old) oldApply(a, 0, a.length, act); else VectorActivations.apply(a, 0, a.length, act);
        }
        sink += a[7];
        return System.nanoTime() - t0;
    }

    static long soft(boolean old, float[] src, float[] s, int n, int reps) {
        long t0 = System.nanoTime();
        float acc = 0;
        for (int r = 0; r < reps; r++) {
            System.arraycopy(src, 0, s, 0, n);
            acc += old ? oldSoftmax(s, 0, n) : VectorAttention.softmaxInPlace(s, 0, n);
        }
        sink += acc;
        return System.nanoTime() - t0;
    }

    public static void main(String[] args) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        float[] src = new float[128 * 1536 + 5], a = new float[src.length];
        for (int i = 0; i < src.length; i++) src[i] = (float) (rnd.nextDouble() * 8 - 4);
        float[] ss = new float[1024], s = new float[ss.length];
        for (int i = 0; i < ss.length; i++) ss[i] = (float) (rnd.nextDouble() * 20 - 10);
        int rounds = Integer.getInteger("rounds", 15);
        for (Activation act : new Activation[] {Activation.GELU_ERF, Activation.GELU_TANH, Activation.SILU}) {
            double[] ro = new double[rounds], rn = new double[rounds];
            for (int w = 0; w < 5; w++) { act(true, act, src, a, 5); act(false, act, src, a, 5); }
            for (int r = 0; r < rounds; r++) {
                ro[r] = act(true, act, src, a, 20) / 20.0 / src.length;
                rn[r] = act(false, act, src, a, 20) / 20.0 / src.length;
            }
            report(act + " (ns/element, " + src.length + " floats)", ro, rn);
        }
        for (int n : new int[] {37, 128, 1024}) {
            double[] ro = new double[rounds], rn = new double[rounds];
            for (int w = 0; w < 5; w++) { soft(true, ss, s, n, 20000); soft(false, ss, s, n, 20000); }
            for (int r = 0; r < rounds; r++) {
                ro[r] = soft(true, ss, s, n, 20000) / 20000.0;
                rn[r] = soft(false, ss, s, n, 20000) / 20000.0;
            }
            report("softmaxInPlace n=" + n + " (ns/call)", ro, rn);
        }
        System.out.println("lanes " + L + " sink " + sink);
    }

    static void report(String what, double[] o, double[] n) {
        double mo = median(o), mn = median(n);
        System.out.printf("%-44s old(SVML) %.3f  new(VectorMath) %.3f  new/old %.2f%n", what, mo, mn, mn / mo);
    }

    static double median(double[] x) {
        double[] c = x.clone();
        java.util.Arrays.sort(c);
        return c[c.length / 2];
    }
}
