package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The vectorized LayerNorm rows against the scalar rows (both sum mean and variance in double; only the order of
 * those double adds differs): equal up to the last float bit, with and without bias, widths with a scalar tail, in
 * place, and the residual add inside the norm.
 */
class VectorNormsTest {
    @Test
    void vectorRowsMatchScalarRows() {
        assumeTrue(Simd.VECTOR, "the Vector API is not enabled");
        Random r = new Random(11);
        for (int d : new int[] {384, 768, 37, 16, 5}) {
            int rows = 9;
            float[] x = new float[rows * d], res = new float[rows * d], g = new float[d], b = new float[d];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (r.nextGaussian() * 3 + 0.5);
                res[i] = (float) r.nextGaussian();
            }
            for (int j = 0; j < d; j++) {
                g[j] = (float) (1 + 0.1 * r.nextGaussian());
                b[j] = (float) (0.1 * r.nextGaussian());
            }
            for (float[] bias : new float[][] {b, null}) {
                float[] want = new float[rows * d], got = new float[rows * d];
                CpuNorms.layerNormScalar(x, g, bias, 1e-12f, want, d, 0, rows);
                for (int row = 0; row < rows; row++) VectorNorms.layerNormRow(x, g, bias, 1e-12f, got, d, row);
                close(want, got, d);
                float[] inPlace = x.clone();
                for (int row = 0; row < rows; row++) VectorNorms.layerNormRow(inPlace, g, bias, 1e-12f, inPlace, d, row);
                close(want, inPlace, d);
                // residual add inside the norm: residual += x, then the norm of residual
                float[] rs = res.clone(), rv = res.clone(), ws = new float[rows * d], wv = new float[rows * d];
                for (int i = 0; i < rs.length; i++) rs[i] = rs[i] + x[i];
                CpuNorms.layerNormScalar(rs, g, bias, 1e-5f, ws, d, 0, rows);
                for (int row = 0; row < rows; row++) VectorNorms.addLayerNormRow(rv, x, g, bias, 1e-5f, wv, d, row);
                close(rs, rv, d);
                close(ws, wv, d);
            }
        }
    }

    /** Equal within one float ulp of the largest magnitude (a double sum rounded to float may differ in its last bit). */
    static void close(float[] want, float[] got, int d) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 2 * Math.ulp(Math.max(Math.abs(want[i]), 1f)), "d " + d + ", element " + i);
        }
    }
}
