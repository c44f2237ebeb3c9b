package dev.cortado.backend.cpu;

/**
 * Element-wise kernels of the CPU backend: the Vector API loop ({@link VectorElementwise}) when {@link Simd#VECTOR},
 * a plain loop otherwise (same float results: one add or multiply per element either way).
 */
final class CpuElementwise {
    private CpuElementwise() {}

    /** z[i] = x[i] + y[i] for i in [0, n). */
    static void add(float[] x, float[] y, float[] z, int n) {
        if (Simd.VECTOR) {
            VectorElementwise.add(x, y, z, n);
            return;
        }
        for (int i = 0; i < n; i++) z[i] = x[i] + y[i];
    }

    /** g[i] *= u[i] for i in [0, n). */
    static void mul(float[] g, float[] u, int n) {
        if (Simd.VECTOR) {
            VectorElementwise.mul(g, u, n);
            return;
        }
        for (int i = 0; i < n; i++) g[i] *= u[i];
    }

    /** A bfloat16 (bits) widened to float32. */
    static float bf16(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** "N-bit vectors", or "scalar" without the Vector API. */
    static String describe() {
        return Simd.VECTOR ? CpuMatmul.bits() + "-bit vectors" : "scalar: no Vector API";
    }
}
