package dev.cortado.bench;

import dev.cortado.backend.AttentionMask;
import dev.cortado.backend.KvView;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code cortado bench kernels}: CPU microbenchmarks through {@link CpuBackend}: GEMV (batch-1 decode linear, weights
 * ≫ L3), GEMM (prefill linear), attention decode over a KV cache and causal attention prefill; GFLOP/s and GB/s of
 * the operands each must read, against the host read bandwidth measured in the same run.
 */
public final class KernelsBench {
    private KernelsBench() {}

    interface Body {
        void run();
    }

    record Kernel(String name, String shape, double flops, double bytes, Body body) {}

    /**
     * Each kernel's warm-up runs last at least this long (timed runs: 50 ms), so that its Vector API code is compiled
     * by C2 before it is timed: interpreted or C1-compiled, a GEMV is 10-40× slower (a 4096² fp32 GEMV measured 59 ms
     * after a 50 ms warm-up).
     */
    static final long WARM_NANOS = 1_000_000_000L;
    /** The longest a warm-up waits for a kernel's time to settle (a loaded host's JIT queue can take seconds). */
    static final long WARM_MAX_NANOS = 10_000_000_000L;

    /**
     * Runs body for at least {@link #WARM_NANOS}, then on until its time per call has settled: no window of 100 ms
     * improved on the best so far by more than 20 % in the last three, and the last window is within 2× of the best
     * (so the timed runs measure C2's final code, not a C1 or interpreted version while a deoptimized method waits
     * to be recompiled: the first GEMV row once read 35× slow through its timed runs), at most {@link #WARM_MAX_NANOS}.
     * Returns the seconds spent.
     */
    static double warmUntilSteady(Body body) {
        long start = System.nanoTime();
        double best = Double.MAX_VALUE;
        int improvedAt = 0;
        for (int w = 0; ; w++) {
            int inner = 0;
            long t0 = System.nanoTime(), t;
            do {
                body.run();
                inner++;
                t = System.nanoTime() - t0;
            } while (t < 100_000_000L);
            double perCall = (double) t / inner;
            if (perCall < best * 0.8) improvedAt = w;
            best = Math.min(best, perCall);
            long elapsed = System.nanoTime() - start;
            if (elapsed >= WARM_MAX_NANOS || (elapsed >= WARM_NANOS && w - improvedAt >= 3 && perCall <= 2 * best)) {
                return elapsed / 1e9;
            }
        }
    }

    public static Report run(boolean smoke, int warmup, int repeats, PrintWriter out) {
        Report rep = new Report("kernels");
        CpuBackend be = new CpuBackend();
        rep.meta.put("backend", be.name());
        Host.Bandwidth bw = Host.bandwidth(smoke ? 64L << 20 : 1L << 30, smoke ? 2 : 5);
        rep.meta.put("bandwidth", Map.of("read_GBps", bw.readGBs(), "copy_GBps", bw.copyGBs(), "buffer_MiB", bw.bytes() >> 20));
        out.printf("bench kernels: %s; host read bandwidth %.1f GB/s, copy %.1f GB/s (%d MiB buffer)%n", be.name(), bw.readGBs(),
                bw.copyGBs(), bw.bytes() >> 20);
        int s = smoke ? 8 : 1;
        List<Kernel> ks = new ArrayList<>();
        if (dev.cortado.backend.cpu.Simd.VECTOR) ks.add(FmaPeak.kernel(smoke ? 20_000 : 2_000_000));
        ks.add(gemv(be, 4096 / s, 4096 / s));
        ks.add(gemv(be, 2048 / s, 8192 / s));
        ks.add(gemvFormat(be, 4096 / s, 4096 / s, "bf16"));
        ks.add(gemvFormat(be, 4096 / s, 4096 / s, "int8"));
        ks.add(gemvFormat(be, 4096 / s, 4096 / s, "int4"));
        // decode linears at GPT-2-124M shapes (768 → 3072 MLP up; the 768 → 50257 head stays bf16 under --quantize)
        for (String f : new String[] {"bf16", "int8", "int4"}) ks.add(gemvFormat(be, 768 / s, 3072 / s, f));
        ks.add(gemvFormat(be, 768 / s, 50257 / s, "bf16"));
        ks.add(gemm(be, 128 / s, 2048 / s, 2048 / s));
        ks.add(gemm(be, 512 / s, 768 / s, 3072 / s));
        ks.add(attnDecode(be, 4, 32, 8, 64, 4096 / s));
        ks.add(attnPrefill(be, 1, 32 / (smoke ? 4 : 1), 64, 512 / s));
        rep.columns.addAll(List.of("kernel", "shape", "ms (median)", "ms min", "ms max", "spread %", "GFLOP/s", "% of FMA peak",
                "GB/s", "% of read bandwidth"));
        double peak = 0;
        Progress progress = new Progress(ks.size() * (warmup + repeats));
        List<String> cats = new ArrayList<>();
        double[] gbs = new double[ks.size()], gflops = new double[ks.size()], bwLine = new double[ks.size()];
        for (int i = 0; i < ks.size(); i++) {
            Kernel k = ks.get(i);
            double[] ms = new double[repeats];
            double warmS = 0;
            for (int r = 0; r < warmup + repeats; r++) {
                progress.show(k.name() + " " + k.shape());
                if (r < warmup && !smoke) {
                    warmS += warmUntilSteady(k.body());
                    progress.step(k.name());
                    continue;
                }
                int inner = 0;
                long t0 = System.nanoTime(), t;
                do {
                    k.body().run();
                    inner++;
                    t = System.nanoTime() - t0;
                } while (t < (smoke ? 1_000_000L : 50_000_000L));
                if (r >= warmup) ms[r - warmup] = t / 1e6 / inner;
                progress.step(k.name());
            }
            Stats st = Stats.of(ms);
            Map<String, Object> row = rep.row();
            row.put("kernel", k.name());
            row.put("shape", k.shape());
            row.put("ms (median)", st.median());
            row.put("ms min", st.min());
            row.put("ms max", st.max());
            row.put("spread %", st.spreadPct());
            double gf = k.flops() / (st.median() / 1e3) / 1e9;
            if (k.name().equals("fma-peak")) peak = gf;
            row.put("GFLOP/s", gf);
            if (peak > 0 && (k.name().equals("gemm") || k.name().equals("fma-peak"))) row.put("% of FMA peak", 100 * gf / peak);
            row.put("GB/s", k.bytes() / (st.median() / 1e3) / 1e9);
            row.put("% of read bandwidth", 100 * (k.bytes() / (st.median() / 1e3) / 1e9) / bw.readGBs());
            row.put("ms_runs", ms);
            row.put("warmup_s", warmS);
            cats.add(k.name() + " " + k.shape());
            gbs[i] = (double) row.get("GB/s");
            gflops[i] = (double) row.get("GFLOP/s");
            bwLine[i] = bw.readGBs();
        }
        progress.finish();
        Map<String, double[]> s1 = new LinkedHashMap<>();
        s1.put("kernel GB/s", gbs);
        s1.put("host read bandwidth", bwLine);
        rep.charts.add(new Report.Chart("bandwidth", "CPU kernels: GB/s of operands read vs host read bandwidth", "kernel", "GB/s", cats, s1));
        rep.charts.add(new Report.Chart("gflops", "CPU kernels: GFLOP/s (" + be.name() + ")", "kernel", "GFLOP/s", cats, Map.of("GFLOP/s", gflops)));
        if (dev.cortado.backend.cpu.Simd.VECTOR) {
            rep.notes.add("fma-peak: every worker thread runs 16 independent " + FmaPeak.bits()
                    + "-bit FMA chains on registers (no memory): the FMA throughput this run could reach; GEMM's % of it is measured in the same run");
        }
        rep.notes.add("GB/s counts each operand once (weights, KV, activations); GEMV and decode attention are bandwidth bound, GEMM and prefill attention compute bound");
        rep.printTable(out);
        be.close();
        return rep;
    }

    static Tensor rand(CpuBackend be, long... shape) {
        Tensor t = be.allocate(DType.F32, shape);
        SplittableRandom r = new SplittableRandom(7);
        long n = t.numel();
        for (long i = 0; i < n; i++) t.data().setAtIndex(Tensor.F32_LE, i, (float) (r.nextDouble() - 0.5));
        return t;
    }

    static volatile float sink;

    static Kernel gemv(CpuBackend be, int k, int n) {
        Tensor w = be.weight(rand(be, k, n)), x = rand(be, 1, k), y = be.allocate(DType.F32, 1, n);
        return new Kernel("gemv", "1x" + k + "x" + n, 2.0 * k * n, 4.0 * ((double) k * n + k + n), () -> be.linear(x, w, null, y));
    }

    /** GEMV over a bf16 / int8 / int4 (blocks of 32, {@link dev.cortado.tensor.Quantizer}) weight: bytes = the packed bytes read (padding included). */
    static Kernel gemvFormat(CpuBackend be, int k, int n, String format) {
        Tensor host = rand(be, n, k), x = rand(be, 1, k), y = be.allocate(DType.F32, 1, n);
        Tensor w;
        long packedBefore = be.weightBytes();
        if (format.equals("bf16")) {
            float[] a = host.toFloatArray();
            java.lang.foreign.MemorySegment seg = java.lang.foreign.MemorySegment.ofArray(new short[a.length]);
            for (int i = 0; i < a.length; i++) seg.setAtIndex(Tensor.I16_LE, i, (short) (Float.floatToRawIntBits(a[i]) >>> 16));
            w = be.weightTransposed(new Tensor(DType.BF16, new long[] {n, k}, seg));
        } else {
            int bits = format.equals("int8") ? 8 : 4;
            try (java.lang.foreign.Arena tmp = java.lang.foreign.Arena.ofConfined()) {
                w = be.quantizedWeight(dev.cortado.tensor.Quantizer.quantize(host, true, bits, tmp));
            }
        }
        // the bytes the packed weight holds (int4: 16-bit scales and offsets when the quantizer's are exactly float16)
        double wBytes = be.weightBytes() - packedBefore;
        return new Kernel("gemv-" + format, "1x" + k + "x" + n, 2.0 * k * n, wBytes + 4.0 * (k + n), () -> be.linear(x, w, null, y));
    }

    static Kernel gemm(CpuBackend be, int m, int k, int n) {
        Tensor w = be.weight(rand(be, k, n)), x = rand(be, m, k), y = be.allocate(DType.F32, m, n);
        return new Kernel("gemm", m + "x" + k + "x" + n, 2.0 * m * k * n, 4.0 * ((double) k * n + (double) m * k + (double) m * n),
                () -> be.linear(x, w, null, y));
    }

    static Kernel attnDecode(CpuBackend be, int b, int heads, int kvHeads, int d, int len) {
        Tensor q = rand(be, b, 1, (long) heads * d), out = be.allocate(DType.F32, b, 1, (long) heads * d);
        Tensor kc = rand(be, b, kvHeads, len, d), vc = rand(be, b, kvHeads, len, d);
        KvView k = KvView.ofCache(kc, kvHeads, len, d), v = KvView.ofCache(vc, kvHeads, len, d);
        AttentionMask mask = AttentionMask.causal(len - 1);
        float scale = (float) (1 / Math.sqrt(d));
        return new Kernel("attn-decode", "b" + b + " h" + heads + "/" + kvHeads + " d" + d + " kv" + len,
                4.0 * b * heads * len * d, 4.0 * 2 * b * kvHeads * (double) len * d,
                () -> be.attention(q, heads, d, k, v, len, mask, scale, null, out));
    }

    static Kernel attnPrefill(CpuBackend be, int b, int heads, int d, int len) {
        Tensor q = rand(be, b, len, (long) heads * d), kk = rand(be, b, len, (long) heads * d), vv = rand(be, b, len, (long) heads * d);
        Tensor out = be.allocate(DType.F32, b, len, (long) heads * d);
        KvView k = KvView.ofRows(kk, len, heads, d), v = KvView.ofRows(vv, len, heads, d);
        float scale = (float) (1 / Math.sqrt(d));
        return new Kernel("attn-prefill", "b" + b + " h" + heads + " d" + d + " s" + len,
                4.0 * b * heads * (double) len * len * d / 2, 4.0 * 4 * b * (double) len * heads * d,
                () -> be.attention(q, heads, d, k, v, len, AttentionMask.causal(0), scale, null, out));
    }
}
