package dev.cortado.backend.cuda;

import static dev.cortado.backend.cuda.GpuTestSupport.assertClose;
import static dev.cortado.backend.cuda.GpuTestSupport.random;
import static dev.cortado.backend.cuda.GpuTestSupport.round;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.cortado.backend.cuda.Kernels.Activation;
import dev.cortado.tensor.DType;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Elementwise, normalization, rotary and softmax kernels against plain Java references; skips without a GPU. */
@Tag("gpu")
class CudaElementwiseGpuTest {

    /** erfc with fractional error < 1.2e-7 (Numerical Recipes' erfcc); Java has no erf. */
    static double erfc(double x) {
        double z = Math.abs(x), t = 1 / (1 + 0.5 * z);
        double ans = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223
                + t * 0.17087277)))))))));
        return x >= 0 ? ans : 2 - ans;
    }

    static double act(Activation a, double x) {
        return switch (a) {
            case NONE -> x;
            case RELU -> Math.max(x, 0);
            case GELU_ERF -> 0.5 * x * erfc(-x / Math.sqrt(2));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case SILU -> x / (1 + Math.exp(-x));
        };
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void addScaleBiasAndActivations(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        Kernels k = ctx.kernels();
        Random r = new Random(11);
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            for (int cols : new int[] {72, 13}) {   // vector path and scalar path
                int rows = 7, n = rows * cols;
                float[] a = random(r, t, n, 3), b = random(r, t, n, 3), bias = random(r, t, cols, 1);
                long da = sc.upload(t, a), db = sc.upload(t, b), dout = sc.alloc((long) n * t.byteSize()).address();
                k.add(t, dout, da, db, n, null);
                double[] want = new double[n];
                for (int i = 0; i < n; i++) want[i] = a[i] + b[i];
                assertClose("add " + t, t, want, sc.download(t, dout, n));

                k.scale(t, da, n, 0.5f, null);
                for (int i = 0; i < n; i++) want[i] = a[i] * 0.5;
                assertClose("scale " + t, t, want, sc.download(t, da, n));

                for (Activation act : Activation.values()) {
                    long x = sc.upload(t, b), dbias = sc.upload(t, bias);
                    k.biasAdd(t, x, dbias, rows, cols, act, null);
                    for (int i = 0; i < n; i++) want[i] = act(act, (double) b[i] + bias[i % cols]);
                    assertClose("bias_add " + act + " " + t + " cols " + cols, t, want, sc.download(t, x, n));
                    if (act == Activation.NONE) continue;
                    long y = sc.alloc((long) n * t.byteSize()).address();
                    k.activation(t, act, y, db, n, null);
                    for (int i = 0; i < n; i++) want[i] = act(act, b[i]);
                    assertClose(act + " " + t, t, want, sc.download(t, y, n));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void gatedActivationsOnAFusedProjection(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        Random r = new Random(12);
        int rows = 5, cols = 96;
        float[] gu = random(r, t, rows * 2 * cols, 3);   // [rows, 2 * cols]: gate then up
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            long dgu = sc.upload(t, gu);
            for (Activation act : new Activation[] {Activation.SILU, Activation.GELU_TANH, Activation.GELU_ERF}) {
                long out = sc.alloc((long) rows * cols * t.byteSize()).address();
                ctx.kernels().gated(t, act, out, dgu, dgu + (long) cols * t.byteSize(), rows, cols, 2L * cols, null);
                double[] want = new double[rows * cols];
                for (int i = 0; i < rows; i++)
                    for (int c = 0; c < cols; c++)
                        want[i * cols + c] = act(act, gu[i * 2 * cols + c]) * gu[i * 2 * cols + cols + c];
                assertClose("gated " + act + " " + t, t, want, sc.download(t, out, rows * cols));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16"})
    void castsRoundToNearestEven(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        float[] v = random(new Random(13), DType.F32, 1000, 100);
        v[0] = 65504f;
        v[1] = 1e-6f;
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            long src = sc.upload(DType.F32, v), half = sc.alloc(2000).address(), back = sc.alloc(4000).address();
            ctx.kernels().cast(DType.F32, t, half, src, v.length, null);
            ctx.kernels().cast(t, DType.F32, back, half, v.length, null);
            assertArrayEquals(GpuTestSupport.round(t, v), sc.download(DType.F32, back, v.length));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void embeddingGathersScalesAndAddsPositions(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        Random r = new Random(14);
        int vocab = 50, hidden = 64, nPos = 16;
        float[] table = random(r, t, vocab * hidden, 1), pos = random(r, t, nPos * hidden, 1);
        int[] ids = {3, 0, 49, -1, 50, 7};
        int[] posIds = {0, 1, 2, 3, 15, 99};
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            long out = sc.alloc((long) ids.length * hidden * t.byteSize()).address();
            ctx.kernels().embedding(t, out, sc.upload(ids), sc.upload(t, table), sc.upload(posIds), sc.upload(t, pos),
                    ids.length, hidden, vocab, nPos, 2f, null);
            double[] want = new double[ids.length * hidden];
            for (int i = 0; i < ids.length; i++)
                for (int c = 0; c < hidden; c++) {
                    double v = ids[i] >= 0 && ids[i] < vocab ? table[ids[i] * hidden + c] * 2.0 : 0;
                    if (posIds[i] < nPos) v += pos[posIds[i] * hidden + c];
                    want[i * hidden + c] = v;
                }
            assertClose("embedding " + t, t, want, sc.download(t, out, want.length));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void rmsnormAndLayernormWithAndWithoutResidual(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        Kernels k = ctx.kernels();
        Random r = new Random(15);
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            for (int cols : new int[] {4096, 100}) {
                int rows = 5, n = rows * cols;
                float[] x = random(r, t, n, 2), res = random(r, t, n, 2);
                float[] w = random(r, t, cols, 1), b = random(r, t, cols, 1);
                long dx = sc.upload(t, x), dw = sc.upload(t, w), db = sc.upload(t, b);
                long out = sc.alloc((long) n * t.byteSize()).address();
                float[] h = new float[n];
                for (int i = 0; i < n; i++) h[i] = round(t, x[i] + res[i]);
                for (boolean fused : new boolean[] {false, true}) {
                    float[] in = fused ? h : x;
                    for (float off : new float[] {0f, 1f}) {
                        long dres = sc.upload(t, res);
                        if (fused) k.addRmsnorm(t, out, dres, dx, dw, rows, cols, 1e-6f, off, null);
                        else k.rmsnorm(t, out, dx, dw, rows, cols, 1e-6f, off, null);
                        assertClose("rmsnorm " + t + " fused " + fused, t, rms(in, w, rows, cols, 1e-6, off),
                                sc.download(t, out, n));
                        if (fused) assertClose("residual " + t, t, GpuTestSupport.toDouble(h), sc.download(t, dres, n));
                    }
                    long dres = sc.upload(t, res);
                    if (fused) k.addLayernorm(t, out, dres, dx, dw, db, rows, cols, 1e-5f, null);
                    else k.layernorm(t, out, dx, dw, db, rows, cols, 1e-5f, null);
                    assertClose("layernorm " + t + " fused " + fused, t, ln(in, w, b, rows, cols, 1e-5),
                            sc.download(t, out, n));
                }
                k.layernorm(t, out, dx, 0, 0, rows, cols, 1e-5f, null);
                assertClose("layernorm no affine " + t, t, ln(x, null, null, rows, cols, 1e-5), sc.download(t, out, n));
            }
        }
    }

    static double[] rms(float[] x, float[] w, int rows, int cols, double eps, double off) {
        double[] y = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            double ss = 0;
            for (int c = 0; c < cols; c++) ss += (double) x[i * cols + c] * x[i * cols + c];
            double inv = 1 / Math.sqrt(ss / cols + eps);
            for (int c = 0; c < cols; c++) y[i * cols + c] = x[i * cols + c] * inv * (w[c] + off);
        }
        return y;
    }

    static double[] ln(float[] x, float[] w, float[] b, int rows, int cols, double eps) {
        double[] y = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            double mean = 0, var = 0;
            for (int c = 0; c < cols; c++) mean += x[i * cols + c];
            mean /= cols;
            for (int c = 0; c < cols; c++) var += Math.pow(x[i * cols + c] - mean, 2);
            double inv = 1 / Math.sqrt(var / cols + eps);
            for (int c = 0; c < cols; c++) {
                double v = (x[i * cols + c] - mean) * inv;
                y[i * cols + c] = (w == null ? v : v * w[c]) + (b == null ? 0 : b[c]);
            }
        }
        return y;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void ropeRotatesQueriesAndKeysInPlace(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        Random r = new Random(16);
        int tokens = 5, nq = 4, nkv = 2, hd = 64;
        int stride = (nq + 2 * nkv) * hd;                      // fused QKV rows
        int[] pos = {0, 1, 17, 900, 4095};
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            for (int rot : new int[] {64, 32}) {
                for (boolean inter : new boolean[] {false, true}) {
                    float[] qkv = random(r, t, tokens * stride, 2);
                    float[] inv = new float[rot / 2];
                    for (int i = 0; i < rot / 2; i++) inv[i] = (float) (1.0 / Math.pow(10000.0, 2.0 * i / rot));
                    long d = sc.upload(t, qkv);
                    long k = d + (long) nq * hd * t.byteSize();
                    ctx.kernels().rope(t, d, k, sc.upload(pos), sc.upload(DType.F32, inv), tokens, nq, nkv, hd, rot,
                            stride, stride, 1f, inter, null);
                    double[] want = GpuTestSupport.toDouble(qkv);
                    for (int tk = 0; tk < tokens; tk++)
                        for (int h = 0; h < nq + nkv; h++) {
                            int base = tk * stride + h * hd;
                            for (int i = 0; i < rot / 2; i++) {
                                double ang = (float) pos[tk] * inv[i];   // fp32 product, as HF and the kernel
                                int a = inter ? base + 2 * i : base + i, b = inter ? base + 2 * i + 1 : base + i + rot / 2;
                                want[a] = qkv[a] * Math.cos(ang) - qkv[b] * Math.sin(ang);
                                want[b] = qkv[b] * Math.cos(ang) + qkv[a] * Math.sin(ang);
                            }
                        }
                    assertClose("rope " + t + " rot " + rot + " interleaved " + inter, t, want,
                            sc.download(t, d, qkv.length));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void softmaxAndLogSoftmaxRows(DType t) {
        CudaContext ctx = GpuTestSupport.context();
        Random r = new Random(17);
        int rows = 4, cols = 1000;
        float[] x = random(r, t, rows * cols, 8);
        for (int c = 0; c < cols; c++) x[3 * cols + c] = Float.NEGATIVE_INFINITY; // fully masked row
        x[5] = Float.NEGATIVE_INFINITY;
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            long dx = sc.upload(t, x), out = sc.alloc((long) rows * cols * t.byteSize()).address();
            long lout = sc.alloc(4L * rows * cols).address();
            ctx.kernels().softmax(t, out, dx, rows, cols, 0.5f, null);
            ctx.kernels().logSoftmax(t, lout, dx, rows, cols, null);
            double[] sm = new double[rows * cols], lsm = new double[rows * cols];
            for (int i = 0; i < rows; i++) {
                double m = Double.NEGATIVE_INFINITY, m1 = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < cols; c++) {
                    m = Math.max(m, x[i * cols + c] * 0.5);
                    m1 = Math.max(m1, x[i * cols + c]);
                }
                double s = 0, s1 = 0;
                for (int c = 0; c < cols; c++) {
                    s += Math.exp(x[i * cols + c] * 0.5 - m);
                    s1 += Math.exp(x[i * cols + c] - m1);
                }
                for (int c = 0; c < cols; c++) {
                    boolean dead = m == Double.NEGATIVE_INFINITY;
                    sm[i * cols + c] = dead ? 0 : Math.exp(x[i * cols + c] * 0.5 - m) / s;
                    lsm[i * cols + c] = dead ? Double.NEGATIVE_INFINITY : x[i * cols + c] - m1 - Math.log(s1);
                }
            }
            assertClose("softmax " + t, t, sm, sc.download(t, out, rows * cols));
            assertClose("log_softmax " + t, 1e-5, lsm, sc.download(DType.F32, lout, rows * cols), null);
        }
    }
}
