package dev.cortado.backend.cpu;

import jdk.incubator.vector.FloatVector;

/** Vector API element-wise loops; reached only through {@link CpuElementwise} when {@link Simd#VECTOR}. */
final class VectorElementwise {
    private VectorElementwise() {}

    static void add(float[] x, float[] y, float[] z, int n) {
        int i = 0, L = CpuMatmul.L;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(CpuMatmul.F, x, i).add(FloatVector.fromArray(CpuMatmul.F, y, i)).intoArray(z, i);
        }
        for (; i < n; i++) z[i] = x[i] + y[i];
    }

    static void mul(float[] g, float[] u, int n) {
        int i = 0, L = CpuMatmul.L;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(CpuMatmul.F, g, i).mul(FloatVector.fromArray(CpuMatmul.F, u, i)).intoArray(g, i);
        }
        for (; i < n; i++) g[i] *= u[i];
    }
}
