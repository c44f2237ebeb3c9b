package dev.cortado.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized LayerNorm rows (reached only through {@link CpuNorms} when {@link Simd#VECTOR}). The mean and variance
 * are summed in double, as the scalar rows do (only the order of the double adds differs, lane by lane), and each
 * output is the scalar formula's float ops in the same order ((x − μ) · inv · γ + β, no fused multiply-add), so the
 * result matches the scalar path up to the rounding of a double sum.
 */
final class VectorNorms {
    private static final VectorSpecies<Float> F = CpuMatmul.F;
    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());
    private static final int L = F.length();

    private VectorNorms() {}

    /**
     * Row r of x (width d) normalized into the same row of out (out may be x). The mean and the variance are each summed
     * in a method of their own that returns a double: with the three loops in one method, C2 (JDK 25, an encoder at batch
     * 32) left a DoubleVector add out of line and boxed a vector per loop iteration (≈ 130 MB per MiniLM pass of 32
     * sentences, JFR allocation samples); the same adds in the same order either way.
     */
    static void layerNormRow(float[] x, float[] g, float[] b, float eps, float[] out, int d, int r) {
        int o = r * d, j;
        double[] lanes = LANES.get();
        double mean = mean(x, o, d, lanes);
        double var = variance(x, o, d, mean, lanes);
        float inv = (float) (1.0 / Math.sqrt(var + eps)), mu = (float) mean;
        for (j = 0; j <= d - L; j += L) {
            FloatVector v = FloatVector.fromArray(F, x, o + j).sub(mu).mul(inv).mul(FloatVector.fromArray(F, g, j));
            if (b != null) v = v.add(FloatVector.fromArray(F, b, j));
            v.intoArray(out, o + j);
        }
        for (; j < d; j++) {
            float v = (x[o + j] - mu) * inv * g[j];
            out[o + j] = b == null ? v : v + b[j];
        }
    }

    private static final ThreadLocal<double[]> LANES = ThreadLocal.withInitial(() -> new double[D.length()]);

    /**
     * {@link VectorMath#sum(DoubleVector)}'s pairwise tree (lane i + lane i + h for h = lanes/2 … 1) in scalar adds over
     * lanes stored to a per-thread array (overwritten): the same pairs in the same order, so the same bits. The callers
     * store their vector and pass the array, so that no vector crosses a call: at the depth the pool's worker thread
     * inlines this row code (worker loop, chunk, norm lambda, row, sum, the Vector API's own frames), C2 left
     * VectorMath.sum's add out of line and boxed a DoubleVector per row (1.6 GB in 8 s of MiniLM batch-1 passes, all on
     * the worker thread, JFR allocation samples).
     */
    private static double treeSum(double[] t) {
        for (int h = t.length / 2; h >= 1; h /= 2) for (int i = 0; i < h; i++) t[i] = t[i] + t[i + h];
        return t[0];
    }

    /** Σ x[o, o + d) / d, summed in double lanes (then the tail in order); lanes: {@link #treeSum}'s scratch. */
    private static double mean(float[] x, int o, int d, double[] lanes) {
        int j = 0;
        DoubleVector s0 = DoubleVector.zero(D), s1 = s0;
        for (; j <= d - L; j += L) {
            FloatVector v = FloatVector.fromArray(F, x, o + j);
            s0 = s0.add((DoubleVector) v.convertShape(VectorOperators.F2D, D, 0));
            s1 = s1.add((DoubleVector) v.convertShape(VectorOperators.F2D, D, 1));
        }
        s0.add(s1).intoArray(lanes, 0);
        double mean = treeSum(lanes);
        for (int t = j; t < d; t++) mean += x[o + t];
        return mean / d;
    }

    /** Σ (x − mean)² / d over x[o, o + d), in double lanes (then the tail in order). */
    private static double variance(float[] x, int o, int d, double mean, double[] lanes) {
        int j = 0;
        DoubleVector mv = DoubleVector.broadcast(D, mean), q0 = DoubleVector.zero(D), q1 = q0;
        for (; j <= d - L; j += L) {
            FloatVector v = FloatVector.fromArray(F, x, o + j);
            DoubleVector t0 = ((DoubleVector) v.convertShape(VectorOperators.F2D, D, 0)).sub(mv);
            DoubleVector t1 = ((DoubleVector) v.convertShape(VectorOperators.F2D, D, 1)).sub(mv);
            q0 = q0.add(t0.mul(t0));
            q1 = q1.add(t1.mul(t1));
        }
        q0.add(q1).intoArray(lanes, 0);
        double var = treeSum(lanes);
        for (int t = j; t < d; t++) {
            double u = x[o + t] - mean;
            var += u * u;
        }
        return var / d;
    }

    /** residual[row r] += x[row r] (the same float adds), then that row normalized into out. */
    static void addLayerNormRow(float[] residual, float[] x, float[] g, float[] b, float eps, float[] out, int d, int r) {
        int o = r * d, j = 0;
        for (; j <= d - L; j += L) {
            FloatVector.fromArray(F, residual, o + j).add(FloatVector.fromArray(F, x, o + j)).intoArray(residual, o + j);
        }
        for (; j < d; j++) residual[o + j] = residual[o + j] + x[o + j];
        layerNormRow(residual, g, b, eps, out, d, r);
    }
}
