package dev.cortado.backend.cpu;

/**
 * The scalar twin of {@link PackedMatmul}: y[M,N] = x[M,K] · W (+ b) for every {@link PackedWeight.Format} (f32, bf16,
 * f16, int8 and int4 blocks), used when the Vector API module is absent ({@link Simd#VECTOR} false) and as the test
 * oracle of the vector kernels. Each panel is widened once into float32 ({@link PackedWeight#decodePanel}), then
 * every input row is multiplied against it; panels are spread over the worker pool.
 */
final class ScalarPackedMatmul {
    private ScalarPackedMatmul() {}

    static void matmul(float[] x, PackedWeight w, float[] bias, float[] y, int m, WorkerPool pool) {
        int k = w.k, n = w.n, nr = PackedWeight.NR;
        pool.parallelFor(w.panels(), (p0, p1) -> {
            float[] panel = new float[k * nr];
            float[] acc = new float[nr];
            for (int p = p0; p < p1; p++) {
                w.decodePanel(p, panel);
                int j0 = p * nr, width = Math.min(nr, n - j0);
                for (int i = 0; i < m; i++) {
                    java.util.Arrays.fill(acc, 0f);
                    for (int kk = 0, xo = i * k; kk < k; kk++) {
                        float xv = x[xo + kk];
                        int o = kk * nr;
                        for (int j = 0; j < nr; j++) acc[j] += xv * panel[o + j];
                    }
                    for (int j = 0; j < width; j++) y[i * n + j0 + j] = acc[j] + (bias == null ? 0f : bias[j0 + j]);
                }
            }
        });
    }
}
