package dev.cortado.bench;

import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.EncoderRunner;
import dev.cortado.registry.Embedders;
import dev.cortado.ort.OrtEncoder;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * Sentence-embedding throughput, Cortado CPU vs ONNX Runtime CPU, same token ids, same machine, one run.
 * Reports sentences/s (median of repeats, with min/max) and the ratio.
 */
public final class EmbedBench {
    private EmbedBench() {}

    /** One engine at one batch size: the median, min and max sentences/s of its timed passes ({@code sps}). */
    public record Result(String engine, int batch, int seq, double medianSps, double minSps, double maxSps, double[] sps) {
        static Result of(String engine, int batch, int seq, double[] sps) {
            double[] s = sps.clone();
            Arrays.sort(s);
            return new Result(engine, batch, seq, s[s.length / 2], s[0], s[s.length - 1], s);
        }

        /** This result and {@code o}'s passes together (the same engine and batch, another round). */
        Result pool(Result o) {
            double[] all = Arrays.copyOf(sps, sps.length + o.sps.length);
            System.arraycopy(o.sps, 0, all, sps.length, o.sps.length);
            return of(engine, batch, seq, all);
        }
    }

    /** Runs the comparison, prints the classic table, and returns a report (JSON/Markdown/PNG) of the same numbers. */
    public static Report run(Path onnx, int[] batches, int seq, int warmup, int repeats, int threads, PrintWriter out) {
        return run(onnx, batches, seq, warmup, repeats, threads, false, out);
    }

    /**
     * As above; {@code opProfile}: Cortado runs on an {@link OpTimer} backend and its timed runs also print where their
     * time goes, op by op (the reflective hop per op makes that run's sentences/s read a little low).
     */
    public static Report run(Path onnx, int[] batches, int seq, int warmup, int repeats, int threads, boolean opProfile,
                             PrintWriter out) {
        return run(onnx, batches, seq, warmup, repeats, threads, opProfile, 1, out);
    }

    /**
     * As above, {@code rounds} times per batch size (Cortado then ONNX Runtime, each with its warm-up floor, round after
     * round): the table pools every round's passes, and a line per batch gives each round's ratio and their median — a
     * drift of the host between one engine's passes and the other's falls on both.
     */
    public static Report run(Path onnx, int[] batches, int seq, int warmup, int repeats, int threads, boolean opProfile,
                             int rounds, PrintWriter out) {
        if (rounds < 1) throw new dev.cortado.CortadoException("--rounds must be ≥ 1, got " + rounds);
        Report rep = new Report("embed");
        rep.meta.put("model", onnx.toString());
        rep.meta.put("settings", java.util.Map.of("batches", java.util.Arrays.stream(batches).boxed().toList(), "seq", seq, "warmup", warmup, "repeats", repeats,
                "rounds", rounds));
        rep.columns.addAll(java.util.List.of("engine", "batch", "seq", "sent/s (median)", "min", "max", "spread %"));
        java.util.Map<String, double[]> series = new java.util.LinkedHashMap<>();
        series.put("cortado", new double[batches.length]);
        series.put("ort", new double[batches.length]);
        Progress progress = new Progress(2 * batches.length * rounds);
        out.printf("bench embed: %s, seq %d, %d warm-up (and >= %d s, then until the JIT is quiet) + %d timed repeats, %d cores%s%n", onnx, seq, warmup,
                warmup == 0 ? 0 : WARM_NANOS / 1_000_000_000L, repeats,
                Runtime.getRuntime().availableProcessors(), rounds > 1 ? ", " + rounds + " rounds" : "");
        out.printf("%-10s %6s %14s %14s %14s%n", "engine", "batch", "sent/s (med)", "min", "max");
        OpTimer timer = opProfile ? new OpTimer() : null;
        java.util.Map<String, Object> roundRatios = new java.util.LinkedHashMap<>();
        if (rounds > 1) rep.meta.put("round_ratios", roundRatios);
        CpuBackend cpu = new CpuBackend(new dev.cortado.backend.cpu.WorkerPool(threads));
        try (EncoderRunner cortado = Embedders.openCortado(onnx, timer != null ? timer.wrap(cpu) : cpu);
             EncoderRunner ort = new OrtEncoder(onnx, 512, threads)) {
            for (int bi = 0; bi < batches.length; bi++) {
                int b = batches[bi];
                int[][] ids = ids(b, seq);
                boolean[][] valid = new boolean[b][seq];
                for (boolean[] v : valid) Arrays.fill(v, true);
                Result rc = null, ro = null;
                double[] ratios = new double[rounds];
                for (int round = 0; round < rounds; round++) {
                    progress.show("cortado batch " + b + (rounds > 1 ? " round " + (round + 1) : ""));
                    Result c = time("cortado", cortado, ids, valid, warmup, repeats, round == 0 ? timer : null, out);
                    progress.step("ort batch " + b);
                    Result o = time("ort", ort, ids, valid, warmup, repeats);
                    progress.step("");
                    ratios[round] = c.medianSps / o.medianSps;
                    rc = rc == null ? c : rc.pool(c);
                    ro = ro == null ? o : ro.pool(o);
                }
                progress.finish();
                for (Result r : new Result[] {rc, ro}) {
                    out.printf("%-10s %6d %14.1f %14.1f %14.1f%n", r.engine, b, r.medianSps, r.minSps, r.maxSps);
                    var row = rep.row();
                    row.put("engine", r.engine);
                    row.put("batch", b);
                    row.put("seq", seq);
                    row.put("sent/s (median)", r.medianSps);
                    row.put("min", r.minSps);
                    row.put("max", r.maxSps);
                    row.put("spread %", r.medianSps == 0 ? 0.0 : 100 * (r.maxSps - r.minSps) / r.medianSps);
                    series.get(r.engine)[bi] = r.medianSps;
                }
                out.printf("ratio cortado/ort at batch %d: %.2fx%n", b, rc.medianSps / ro.medianSps);
                if (rounds > 1) {
                    String list = Arrays.stream(ratios).mapToObj(x -> String.format("%.2f", x)).collect(java.util.stream.Collectors.joining(" "));
                    double med = Stats.of(ratios).median();
                    out.printf("ratio cortado/ort at batch %d, round by round: %s; median %.2fx%n", b, list, med);
                    rep.notes.add(String.format("ratio cortado/ort at batch %d, round by round (each round's median pass vs the same round's): %s; median %.2fx",
                            b, list, med));
                    roundRatios.put("batch " + b, java.util.Map.of("ratios", ratios, "median", med));
                }
                out.flush();
            }
        }
        java.util.List<String> cats = java.util.Arrays.stream(batches).mapToObj(b -> "batch " + b).toList();
        rep.charts.add(new Report.Chart("throughput", "Sentence embeddings/s, seq " + seq + " — " + onnx.getFileName(),
                "batch size", "sentences/s (median)", cats, series));
        return rep;
    }

    static int[][] ids(int b, int seq) {
        Random r = new Random(42);
        int[][] ids = new int[b][seq];
        for (int[] row : ids) {
            for (int j = 0; j < seq; j++) row[j] = 1000 + r.nextInt(20000);
            row[0] = 101;
            row[seq - 1] = 102;
        }
        return ids;
    }

    /**
     * Warm-up floor per engine and batch: at least this long (besides the given warm-up runs; then on until the JIT is
     * quiet, see {@link #warmUntilJitQuiet}), so that the JIT has compiled the Java kernels (tier 4) before the timed runs; a batch-1 forward takes tens of milliseconds, and a
     * couple of them run mostly in the interpreter and C1 (2-4× slower). ONNX Runtime gets the same floor.
     */
    static final long WARM_NANOS = 3_000_000_000L;

    /** The longest a warm-up waits for the JIT to go quiet (from the start of the warm-up). */
    static final long WARM_MAX_NANOS = 30_000_000_000L;
    /** How long no compilation may finish before the warm-up counts as done (and at least two passes). */
    static final long JIT_QUIET_NANOS = 1_000_000_000L;

    /**
     * After the warm-up floor, more passes until the JIT has gone quiet: no compilation finished (the JVM's total
     * compilation time unchanged) for {@link #JIT_QUIET_NANOS} and two passes, at most until {@link #WARM_MAX_NANOS}
     * after {@code w0}. On a loaded 2-core host the C2 queue took 6-20 s to compile the encoder's kernels (attention
     * tiles, norms: 150-380 ms each), so a 3 s floor timed passes that still ran them in C1 code, allocating a boxed
     * vector per op (batch 1 read 2-5× slow). ONNX Runtime gets the same rule (its JNI wrapper goes quiet at once).
     */
    static void warmUntilJitQuiet(Runnable pass, long w0) {
        var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) return;
        long seen = jit.getTotalCompilationTime(), quietSince = System.nanoTime();
        for (int quietPasses = 0; System.nanoTime() - w0 < WARM_MAX_NANOS; ) {
            pass.run();
            long now = jit.getTotalCompilationTime();
            if (now != seen) {
                seen = now;
                quietSince = System.nanoTime();
                quietPasses = 0;
            } else if (++quietPasses >= 2 && System.nanoTime() - quietSince >= JIT_QUIET_NANOS) {
                return;
            }
        }
    }

    static Result time(String name, EncoderRunner runner, int[][] ids, boolean[][] valid, int warmup, int repeats) {
        return time(name, runner, ids, valid, warmup, repeats, null, null);
    }

    /** As above; with a timer, the timed runs are profiled op by op and the table printed to out. */
    static Result time(String name, EncoderRunner runner, int[][] ids, boolean[][] valid, int warmup, int repeats,
                       OpTimer timer, PrintWriter out) {
        return time(name, runner, ids, valid, warmup, repeats, warmup == 0 ? 0 : WARM_NANOS, timer, out);
    }

    static Result time(String name, EncoderRunner runner, int[][] ids, boolean[][] valid, int warmup, int repeats, long warmNanos) {
        return time(name, runner, ids, valid, warmup, repeats, warmNanos, null, null);
    }

    private static Result time(String name, EncoderRunner runner, int[][] ids, boolean[][] valid, int warmup, int repeats,
                               long warmNanos, OpTimer timer, PrintWriter out) {
        int[][] types = new int[ids.length][ids[0].length];
        long w0 = System.nanoTime();
        for (int i = 0; i < warmup || System.nanoTime() - w0 < warmNanos; i++) runner.lastHiddenState(ids, types, valid);
        if (warmNanos > 0) warmUntilJitQuiet(() -> runner.lastHiddenState(ids, types, valid), w0);
        double[] sps = new double[repeats];
        if (timer != null) timer.start();
        long timed0 = System.nanoTime();
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            runner.lastHiddenState(ids, types, valid);
            sps[i] = ids.length / ((System.nanoTime() - t0) / 1e9);
        }
        if (timer != null) {
            timer.stop();
            timer.print(out, name + " batch " + ids.length + " seq " + ids[0].length, System.nanoTime() - timed0, repeats);
        }
        return Result.of(name, ids.length, ids[0].length, sps);
    }
}
