package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.function.DoubleUnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * {@link ScalarMath} and {@link VectorMath}: within 2 ulp of {@link StrictMath} (the reference: fdlibm, the same on
 * every JVM) over dense sweeps, the IEEE special cases, and lane-for-lane bit-identical to each other. Each sweep runs
 * the vector path from its first (interpreted) call to C2-compiled code and compares every result with the scalar
 * twin, so a JIT-state difference would show as a mismatch.
 */
class VectorMathTest {
    /** The species (read when a test runs, after its assumption: the class loads without the Vector API). */
    private static VectorSpecies<Float> species() {
        return CpuMatmul.F;
    }

    interface VectorOp {
        FloatVector apply(FloatVector x);
    }

    interface ScalarOp {
        float apply(float x);
    }

    /** Result of a sweep: the largest error in ulps and the point where it occurs. */
    record Worst(double ulps, float at, long points) {}

    /** Error of f in ulps of the float nearest to the exact (double) value ref; 0 when both overflow to the same inf. */
    static double ulps(float f, double ref) {
        float rounded = (float) ref;
        if (Float.isInfinite(rounded) || Float.isInfinite(f)) return f == rounded ? 0 : Double.POSITIVE_INFINITY;
        if (Float.isNaN(f)) return Double.POSITIVE_INFINITY;
        return Math.abs(f - ref) / Math.ulp(rounded);
    }

    /**
     * Every step-th float bit pattern of [lo, hi] (both signs): the scalar op against StrictMath, the vector op (whole
     * vectors over a chunk) against the scalar one, bit for bit.
     */
    static Worst sweep(float lo, float hi, int step, ScalarOp scalar, VectorOp vector, DoubleUnaryOperator ref) {
        float[] xs = new float[1 << 14], vs = new float[xs.length];
        double worst = 0;
        float at = Float.NaN;
        long points = 0;
        int n = 0;
        for (int sign = 0; sign < 2; sign++) {
            float from = sign == 0 ? Math.max(0f, lo) : Math.max(0f, -hi), to = sign == 0 ? hi : -lo;
            if (to < from || (sign == 1 && to == 0)) continue;
            for (long b = Float.floatToRawIntBits(from); b <= Float.floatToRawIntBits(to); b += step) {
                xs[n++] = Float.intBitsToFloat((int) b | (sign == 0 ? 0 : 0x80000000));
                if (n == xs.length) {
                    double[] w = check(xs, vs, n, scalar, vector, ref);
                    if (w[0] > worst) {
                        worst = w[0];
                        at = (float) w[1];
                    }
                    points += n;
                    n = 0;
                }
            }
        }
        double[] w = check(xs, vs, n, scalar, vector, ref);
        if (w[0] > worst) {
            worst = w[0];
            at = (float) w[1];
        }
        return new Worst(worst, at, points + n);
    }

    private static double[] check(float[] xs, float[] vs, int n, ScalarOp scalar, VectorOp vector, DoubleUnaryOperator ref) {
        VectorSpecies<Float> F = species();
        int l = F.length(), i = 0;
        for (; i <= n - l; i += l) vector.apply(FloatVector.fromArray(F, xs, i)).intoArray(vs, i);
        for (; i < n; i++) vs[i] = scalar.apply(xs[i]); // a partial chunk: no vector to compare
        double worst = 0, at = Double.NaN;
        for (i = 0; i < n; i++) {
            float s = scalar.apply(xs[i]);
            if (Float.floatToIntBits(s) != Float.floatToIntBits(vs[i])) {
                throw new AssertionError("x=" + xs[i] + ": vector lane " + vs[i] + " != scalar " + s);
            }
            double e = ulps(s, ref.applyAsDouble(xs[i]));
            if (e > worst) {
                worst = e;
                at = xs[i];
            }
        }
        return new double[] {worst, at};
    }

    /** The scalar and the vector op (every lane the same x) give the same bits, and those bits equal expected. */
    static void special(ScalarOp scalar, VectorOp vector, float x, float expected) {
        VectorSpecies<Float> F = species();
        float s = scalar.apply(x), v = vector.apply(FloatVector.broadcast(F, x)).lane(F.length() - 1);
        assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(s), "scalar at " + x);
        assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(v), "vector at " + x);
    }

    @Test
    void expIsWithinTwoUlpOfStrictMathAndTheSameBitsOnBothPaths() {
        assumeTrue(Simd.VECTOR, "the Vector API is not enabled in this JVM (surefire normally adds it)");
        Worst w = sweep(-104f, 89f, 97, ScalarMath::exp, VectorMath::exp, StrictMath::exp);
        System.out.println("exp: max " + w.ulps() + " ulp at x=" + w.at() + " over " + w.points() + " floats of [-104, 89]");
        assertTrue(w.ulps() <= 2, "exp: " + w);
        // the subnormal range, densely: results in [2^-149, 2^-126) are rounded once, not flushed
        Worst sub = sweep(-104f, -87f, 7, ScalarMath::exp, VectorMath::exp, StrictMath::exp);
        System.out.println("exp (subnormal results): max " + sub.ulps() + " ulp at x=" + sub.at());
        assertTrue(sub.ulps() <= 2, "exp subnormal: " + sub);
    }

    @Test
    void expSpecialCases() {
        assumeTrue(Simd.VECTOR, "the Vector API is not enabled in this JVM (surefire normally adds it)");
        ScalarOp s = ScalarMath::exp;
        VectorOp v = VectorMath::exp;
        special(s, v, 0f, 1f);
        special(s, v, -0f, 1f);
        special(s, v, Float.NaN, Float.NaN);
        special(s, v, Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY);
        special(s, v, Float.NEGATIVE_INFINITY, 0f);
        special(s, v, Float.MAX_VALUE, Float.POSITIVE_INFINITY);
        special(s, v, -Float.MAX_VALUE, 0f);
        special(s, v, -200f, 0f);
        special(s, v, 100f, Float.POSITIVE_INFINITY);
        special(s, v, Float.MIN_VALUE, 1f);
        // the overflow threshold: ln(MAX_VALUE) = 88.7228391…
        assertTrue(Float.isFinite(s.apply(88.72283f)) && s.apply(88.72283f) > 3.4e38f, "exp(88.72283) is finite");
        special(s, v, 88.72284f, Float.POSITIVE_INFINITY);
        // the underflow threshold: exp(x) < 2^-150 (half the smallest subnormal) rounds to +0
        special(s, v, -103.98f, 0f);
        special(s, v, -103.97f, Float.MIN_VALUE);
        special(s, v, (float) Math.log(0x1p-126), (float) StrictMath.exp((float) Math.log(0x1p-126)));
    }

    @Test
    void tanhIsWithinTwoUlpOfStrictMathAndTheSameBitsOnBothPaths() {
        assumeTrue(Simd.VECTOR, "the Vector API is not enabled in this JVM (surefire normally adds it)");
        Worst w = sweep(-10f, 10f, 97, ScalarMath::tanh, VectorMath::tanh, StrictMath::tanh);
        System.out.println("tanh: max " + w.ulps() + " ulp at x=" + w.at() + " over " + w.points() + " floats of [-10, 10]");
        assertTrue(w.ulps() <= 2, "tanh: " + w);
        // around the switch from the polynomial to the exp formula, densely
        Worst mid = sweep(0.5f, 0.75f, 1, ScalarMath::tanh, VectorMath::tanh, StrictMath::tanh);
        System.out.println("tanh [0.5, 0.75] every float: max " + mid.ulps() + " ulp at x=" + mid.at());
        assertTrue(mid.ulps() <= 2, "tanh near 0.625: " + mid);
    }

    @Test
    void tanhSpecialCases() {
        assumeTrue(Simd.VECTOR, "the Vector API is not enabled in this JVM (surefire normally adds it)");
        ScalarOp s = ScalarMath::tanh;
        VectorOp v = VectorMath::tanh;
        special(s, v, 0f, 0f);
        special(s, v, -0f, -0f);
        special(s, v, Float.NaN, Float.NaN);
        special(s, v, Float.POSITIVE_INFINITY, 1f);
        special(s, v, Float.NEGATIVE_INFINITY, -1f);
        special(s, v, 20f, 1f);
        special(s, v, -50f, -1f);
        special(s, v, Float.MAX_VALUE, 1f);
        special(s, v, -Float.MAX_VALUE, -1f);
        special(s, v, Float.MIN_VALUE, Float.MIN_VALUE);
        special(s, v, -1e-30f, -1e-30f);
        for (float x = 0.01f; x < 12; x *= 1.37f) assertEquals(-s.apply(x), s.apply(-x), "odd at " + x);
    }

    /** The lane sum is the pairwise tree (lane i + lane i ^ h, h = L/2 … 1) in float and in double, in every JIT state. */
    @Test
    void sumIsAFixedPairwiseTree() {
        assumeTrue(Simd.VECTOR, "the Vector API is not enabled in this JVM (surefire normally adds it)");
        VectorSpecies<Float> F = species();
        VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        float[] a = new float[F.length()];
        double[] d = new double[D.length()];
        for (int round = 0; round < 50_000; round++) {
            for (int i = 0; i < a.length; i++) a[i] = (float) ((r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(8) - 4));
            for (int i = 0; i < d.length; i++) d[i] = (r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(16) - 8);
            float[] t = a.clone();
            for (int h = t.length / 2; h >= 1; h /= 2) {
                float[] u = t.clone();
                for (int i = 0; i < t.length; i++) u[i] = t[i] + t[i ^ h];
                t = u;
            }
            double[] e = d.clone();
            for (int h = e.length / 2; h >= 1; h /= 2) {
                double[] u = e.clone();
                for (int i = 0; i < e.length; i++) u[i] = e[i] + e[i ^ h];
                e = u;
            }
            assertEquals(t[0], VectorMath.sum(FloatVector.fromArray(F, a, 0)), "float round " + round);
            assertEquals(e[0], VectorMath.sum(jdk.incubator.vector.DoubleVector.fromArray(D, d, 0)), "double round " + round);
        }
    }
}
