package dev.cortado.backend.cpu;

import static dev.cortado.backend.cpu.CpuActivations.GELU_C;
import static dev.cortado.backend.cpu.CpuActivations.GP0;
import static dev.cortado.backend.cpu.CpuActivations.GP1;
import static dev.cortado.backend.cpu.CpuActivations.GP2;
import static dev.cortado.backend.cpu.CpuActivations.GP3;
import static dev.cortado.backend.cpu.CpuActivations.GP4;
import static dev.cortado.backend.cpu.CpuActivations.GP5;
import static dev.cortado.backend.cpu.CpuActivations.GQ1;
import static dev.cortado.backend.cpu.CpuActivations.GQ2;
import static dev.cortado.backend.cpu.CpuActivations.GQ3;
import static dev.cortado.backend.cpu.CpuActivations.GQ4;
import static dev.cortado.backend.cpu.CpuActivations.GQ5;
import static dev.cortado.backend.cpu.CpuActivations.K_TANH;

import dev.cortado.backend.Backend.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized activations (reached only through {@link CpuActivations} when {@link Simd#VECTOR}): GELU(tanh) and
 * SiLU use {@link VectorMath}'s tanh/exp; GELU(erf) a rational Φ (see {@link CpuActivations#GELU_C}). Each formula
 * is the float operations of {@link CpuActivations#scalar} in the same order, so a vector lane and a scalar tail give
 * the same bits.
 */
final class VectorActivations {
    private static final VectorSpecies<Float> F = CpuMatmul.F;
    private static final int L = F.length();

    private VectorActivations() {}

    /**
     * act over a[from, to): one loop per activation (each inlines only its own formula: a single loop over
     * {@link #vector}'s switch grew, with {@link VectorMath}'s exp/tanh in every case, past what C2 inlines, and every
     * vector then went through an out-of-line call and a boxed FloatVector, 5-9× slower); the tail is scalar.
     */
    static void apply(float[] a, int from, int to, Activation act) {
        int i = switch (act) {
            case RELU -> relu(a, from, to);
            case SILU -> silu(a, from, to);
            case GELU_TANH -> geluTanh(a, from, to);
            case GELU_ERF -> geluErf(a, from, to);
        };
        for (; i < to; i++) a[i] = CpuActivations.scalar(a[i], act);
    }

    private static int relu(float[] a, int from, int to) {
        int i = from;
        for (; i <= to - L; i += L) FloatVector.fromArray(F, a, i).max(0f).intoArray(a, i);
        return i;
    }

    private static int silu(float[] a, int from, int to) {
        int i = from;
        for (; i <= to - L; i += L) silu(FloatVector.fromArray(F, a, i)).intoArray(a, i);
        return i;
    }

    private static int geluTanh(float[] a, int from, int to) {
        int i = from;
        for (; i <= to - L; i += L) geluTanh(FloatVector.fromArray(F, a, i)).intoArray(a, i);
        return i;
    }

    private static int geluErf(float[] a, int from, int to) {
        int i = from;
        for (; i <= to - L; i += L) geluErf(FloatVector.fromArray(F, a, i)).intoArray(a, i);
        return i;
    }

    /**
     * act over {@code rows} row segments of two vectors each (NR floats), row r at y[from + r·stride]; each vector gets
     * {@link #vector}'s formula. One small method per activation with one formula per loop iteration: with all four
     * activations' loops (two formula copies each) in one method, a probe calling it in a loop on Zen 4 got C2 code that
     * boxed a vector per GELU(erf) call (6 bytes allocated per element, 1.9 ns per element; 1.1-1.3 ns and nothing
     * allocated this way, 0.9 for the flat loop). The encoder's GEMM epilogue did not show that allocation, and its op
     * profile did not move measurably: this keeps the method small enough that it cannot.
     */
    static void applyRows(float[] y, int from, int stride, int rows, Activation act) {
        switch (act) {
            case GELU_ERF -> geluErfRows(y, from, stride, rows);
            case SILU -> siluRows(y, from, stride, rows);
            case GELU_TANH -> geluTanhRows(y, from, stride, rows);
            case RELU -> reluRows(y, from, stride, rows);
        }
    }

    /** Offset of vector v (two per row) of {@link #applyRows}'s segments. */
    private static int rowVector(int from, int stride, int v) {
        return from + (v >> 1) * stride + (v & 1) * L;
    }

    private static void geluErfRows(float[] y, int from, int stride, int rows) {
        for (int v = 0, n = 2 * rows; v < n; v++) {
            int o = rowVector(from, stride, v);
            geluErf(FloatVector.fromArray(F, y, o)).intoArray(y, o);
        }
    }

    private static void siluRows(float[] y, int from, int stride, int rows) {
        for (int v = 0, n = 2 * rows; v < n; v++) {
            int o = rowVector(from, stride, v);
            silu(FloatVector.fromArray(F, y, o)).intoArray(y, o);
        }
    }

    private static void geluTanhRows(float[] y, int from, int stride, int rows) {
        for (int v = 0, n = 2 * rows; v < n; v++) {
            int o = rowVector(from, stride, v);
            geluTanh(FloatVector.fromArray(F, y, o)).intoArray(y, o);
        }
    }

    private static void reluRows(float[] y, int from, int stride, int rows) {
        for (int v = 0, n = 2 * rows; v < n; v++) {
            int o = rowVector(from, stride, v);
            FloatVector.fromArray(F, y, o).max(0f).intoArray(y, o);
        }
    }

    /** SiLU: x / (exp(−x) + 1). */
    static FloatVector silu(FloatVector x) {
        return x.div(VectorMath.exp(x.neg()).add(1f));
    }

    /** GELU(tanh): x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³))). */
    static FloatVector geluTanh(FloatVector x) {
        FloatVector inner = x.mul(x).mul(x).mul(0.044715f).add(x).mul(K_TANH);
        return x.mul(0.5f).mul(VectorMath.tanh(inner).add(1f));
    }

    /** GELU(erf): x·Φ(x) with {@link CpuActivations#GELU_C}'s rational Φ (no exp). */
    static FloatVector geluErf(FloatVector x) {
        FloatVector xc = x.max(-GELU_C).min(GELU_C), t = xc.mul(xc);
        FloatVector p = t.fma(GP5, GP4).fma(t, x.broadcast(GP3)).fma(t, x.broadcast(GP2)).fma(t, x.broadcast(GP1)).fma(t, x.broadcast(GP0));
        FloatVector q = t.fma(GQ5, GQ4).fma(t, x.broadcast(GQ3)).fma(t, x.broadcast(GQ2)).fma(t, x.broadcast(GQ1)).fma(t, x.broadcast(1f));
        FloatVector phi = xc.mul(p).div(q).add(0.5f);
        phi = phi.blend(1f, x.compare(VectorOperators.GE, GELU_C)).blend(0f, x.compare(VectorOperators.LE, -GELU_C));
        return x.mul(phi);
    }

    static FloatVector vector(FloatVector x, Activation act) {
        return switch (act) {
            case RELU -> x.max(0f);
            case SILU -> silu(x);
            case GELU_TANH -> geluTanh(x);
            case GELU_ERF -> geluErf(x);
        };
    }
}
