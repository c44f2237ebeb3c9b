package dev.cortado.backend.cuda;

import static dev.cortado.backend.cuda.GpuTestSupport.assertClose;
import static dev.cortado.backend.cuda.GpuTestSupport.random;
import static dev.cortado.backend.cuda.GpuTestSupport.tol;

import dev.cortado.tensor.DType;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * GEMV, Cortado's GEMMs and cuBLASLt against a double-precision reference: Y = X . W^T + bias. The error bound
 * scales with the L1 mass of each dot product (accumulated rounding), relative tolerance as the storage type.
 */
@Tag("gpu")
class CudaGemmGpuTest {
    interface Product {
        void run(Kernels k, DType t, long y, long x, long w, long bias, int m, int n, int kk, CudaStream s);
    }

    static void check(String what, DType t, int m, int n, int k, boolean withBias, Product p) {
        CudaContext ctx = GpuTestSupport.context();
        Random r = new Random(m * 31L + n * 7L + k);
        float[] x = random(r, t, m * k, 1), w = random(r, t, n * k, 1), b = random(r, t, n, 1);
        double[] want = new double[m * n], mass = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = withBias ? b[j] : 0, l1 = Math.abs(s);
                for (int q = 0; q < k; q++) {
                    double pr = (double) x[i * k + q] * w[j * k + q];
                    s += pr;
                    l1 += Math.abs(pr);
                }
                want[i * n + j] = s;
                mass[i * n + j] = Math.max(l1, Math.abs(s));
            }
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            long y = sc.alloc((long) m * n * t.byteSize()).address();
            p.run(ctx.kernels(), t, y, sc.upload(t, x), sc.upload(t, w), withBias ? sc.upload(t, b) : 0, m, n, k, null);
            // fp32: 1e-5 of the L1 mass; fp16 / bf16: their output rounding relative to |y| plus accumulation
            double[] scale = t == DType.F32 ? mass : null;
            assertClose(what + " " + t + " M=" + m + " N=" + n + " K=" + k + " bias=" + withBias, tol(t), want,
                    sc.download(t, y, m * n), scale);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void gemvForDecode(DType t) {
        for (int m : new int[] {1, 3, 8}) {
            check("gemv", t, m, 300, 1024, true, Kernels::gemv);      // 16-byte vector path
            check("gemv", t, m, 33, 100, false, Kernels::gemv);       // K not a multiple of the vector: scalar path
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void cortadoGemm(DType t) {
        check("gemm", t, 37, 50, 70, true, Kernels::gemm);
        check("gemm", t, 128, 96, 256, false, Kernels::gemm);
        check("gemm", t, 130, 200, 520, true, Kernels::gemm);
        check("gemm simt", t, 37, 50, 70, true, Kernels::gemmSimt);
        check("gemm simt", t, 65, 129, 33, false, Kernels::gemmSimt);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void linearPicksGemvOrGemm(DType t) {
        check("linear", t, 2, 64, 256, true, Kernels::linear);
        check("linear", t, 40, 64, 256, true, Kernels::linear);
    }

    @Test
    void cublasLtWhenPresent() {
        CudaContext ctx = GpuTestSupport.context();
        Assumptions.assumeTrue(ctx.blas().isPresent(), () -> "cuBLASLt not used: " + ctx.gemmProvider());
        System.out.println("GEMM provider: " + ctx.gemmProvider());
        for (DType t : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            Product p = (k, tt, y, x, w, b, m, n, kk, s) -> ctx.blas().get().matmul(tt, y, x, w, b, m, n, kk, s);
            check("cublasLt", t, 64, 128, 256, true, p);
            check("cublasLt", t, 40, 72, 136, false, p);
        }
    }
}
