package dev.cortado.bench;

import dev.cortado.CortadoException;
import dev.cortado.backend.cpu.WorkerPool;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.LanguageModel;
import dev.cortado.model.ModelConfig;
import dev.cortado.safetensors.Safetensors;
import dev.cortado.tensor.Tensor;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * {@code cortado bench generate}: greedy generation from the same prompt token ids through Cortado CPU, ONNX Runtime
 * Java CPU and (when a Python with torch is found) the Python competitors in {@code bench/competitors/}, on the same
 * model folder, in one run. Token agreement is checked before speeds are compared. Reports prefill and decode
 * tok/s, TTFT, per-token latency p50/p99, peak RSS, and % of the decode roofline (bytes of weights + KV read per
 * step ÷ host read bandwidth measured in the same run).
 */
public final class GenerateBench {
    private GenerateBench() {}

    public static final List<String> ENGINES = List.of("cortado", "ort", "hf-eager", "hf-compile", "ort-python");

    /**
     * Warm-up floor per Java engine and batch: after the given warm-up runs, more of them until this much time has
     * passed, so that the timed runs measure JIT-compiled (tier 4) Java kernels, not the interpreter or C1 (a batch-1
     * run of a small model takes well under a second). ONNX Runtime Java gets the same floor; none with --smoke or
     * {@code --warmup 0}.
     */
    static final long WARM_NANOS = 2_000_000_000L;

    /**
     * {@code rounds}: the Java engines run in turn this many times (each round loads, runs and closes every engine), so
     * a drift of the host's memory bandwidth between one engine's runs and the next's (this 2-vCPU host: 28-42 GB/s
     * within minutes) falls on both; the table pools every round's runs, and a line per competitor gives each round's
     * decode ratio and their median.
     */
    public record Options(String model, int[] batches, int promptLen, int genLen, int warmup, int repeats, boolean smoke,
                          boolean quick, Path outDir, String python, List<String> engines, dev.cortado.device.Device device,
                          dev.cortado.tensor.DType dtype, Int4Onnx.Options int4Onnx, int rounds) {
        public Options {
            if (rounds < 1) throw new CortadoException("--rounds must be ≥ 1, got " + rounds);
        }

        public Options(String model, int[] batches, int promptLen, int genLen, int warmup, int repeats, boolean smoke,
                       boolean quick, Path outDir, String python, List<String> engines, dev.cortado.device.Device device,
                       dev.cortado.tensor.DType dtype, Int4Onnx.Options int4Onnx) {
            this(model, batches, promptLen, genLen, warmup, repeats, smoke, quick, outDir, python, engines, device, dtype, int4Onnx, 1);
        }

        public Options(String model, int[] batches, int promptLen, int genLen, int warmup, int repeats, boolean smoke,
                       boolean quick, Path outDir, String python, List<String> engines) {
            this(model, batches, promptLen, genLen, warmup, repeats, smoke, quick, outDir, python, engines,
                    dev.cortado.device.Device.cpu(), dev.cortado.tensor.DType.F32);
        }

        public Options(String model, int[] batches, int promptLen, int genLen, int warmup, int repeats, boolean smoke,
                       boolean quick, Path outDir, String python, List<String> engines, dev.cortado.device.Device device,
                       dev.cortado.tensor.DType dtype) {
            this(model, batches, promptLen, genLen, warmup, repeats, smoke, quick, outDir, python, engines, device, dtype, null);
        }

        boolean cuda() {
            return device.isCuda();
        }
    }

    /**
     * One generation: tokens [rows][gen], its timings, and the Java heap bytes allocated by all threads during its
     * decode steps ({@code decodeAllocBytes}; -1 when not measured, e.g. a Python competitor).
     */
    public record Run(int[][] tokens, long sessionNs, long prefillNs, long[] stepNs, long decodeAllocBytes) {
        public Run(int[][] tokens, long sessionNs, long prefillNs, long[] stepNs) {
            this(tokens, sessionNs, prefillNs, stepNs, -1);
        }

        /** Decode tokens/s of this run at batch b: b × steps ÷ decode time; NaN without decode steps. */
        double decodeTokS(int b) {
            return stepNs.length == 0 ? Double.NaN : b * stepNs.length / (java.util.Arrays.stream(stepNs).sum() / 1e9);
        }

        /** Heap KB allocated per generated decode token (batch × (gen − 1)); NaN when not measured. */
        double allocKbPerToken() {
            long tokens = (long) tokens().length * stepNs.length;
            return decodeAllocBytes < 0 || tokens == 0 ? Double.NaN : decodeAllocBytes / 1024.0 / tokens;
        }
    }

    /**
     * Heap bytes allocated so far by all threads of this JVM (HotSpot's {@code com.sun.management.ThreadMXBean}), or
     * -1 where the JVM does not count them. Steady-state decode should allocate next to nothing: a Vector API value
     * boxed across a call C2 did not inline, or a per-op output array, shows up here.
     */
    static long allocatedBytes() {
        if (java.lang.management.ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                && t.isThreadAllocatedMemorySupported() && t.isThreadAllocatedMemoryEnabled()) {
            return t.getTotalThreadAllocatedBytes();
        }
        return -1;
    }

    /**
     * Bytes engine r reads per decode step at batch b: the weights it streams (Cortado's packed bf16/int8/int4 storage,
     * else the model's; with --onnx-int4 every engine runs the same file, so every engine streams what Cortado measured
     * of it) plus the KV cache at the mean context.
     */
    static double stepBytes(ModelInfo mi, Options o, List<EngineResult> results, EngineResult r, int b) {
        long sameFile = o.int4Onnx() == null ? -1 : results.stream().mapToLong(EngineResult::weightBytes).max().orElse(-1);
        long wBytes = r.weightBytes() > 0 ? r.weightBytes() : sameFile > 0 ? sameFile : mi.weightBytes();
        long kvPerTokenRow = 2L * mi.layers() * mi.kvHeads() * mi.headDim() * 4;
        return wBytes + kvPerTokenRow * (o.promptLen() + o.genLen() / 2.0) * b;
    }

    /** Shapes the roofline needs. */
    record ModelInfo(Path dir, String label, int layers, int kvHeads, int headDim, int vocab, long weightBytes, long params) {}

    public static int[][] prompt(int batch, int len, int vocab, long seed) {
        Random r = new Random(seed);
        int[][] p = new int[batch][len];
        for (int[] row : p) for (int j = 0; j < len; j++) row[j] = r.nextInt(vocab);
        return p;
    }

    static int argmax(float[] a) {
        int b = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
        return b;
    }

    /** Greedy generation of {@code gen} tokens after {@code prompt}, timed step by step. */
    public static Run greedy(LanguageModel m, int[][] prompt, int gen, Progress unused) {
        int rows = prompt.length;
        int[][] out = new int[rows][gen];
        long[] steps = new long[Math.max(0, gen - 1)];
        long t0 = System.nanoTime();
        try (DecoderSession s = m.newSession(rows)) {
            long t1 = System.nanoTime();
            float[][] logits = s.step(prompt, null);
            int[][] next = new int[rows][1];
            for (int r = 0; r < rows; r++) next[r][0] = out[r][0] = argmax(logits[r]);
            long t2 = System.nanoTime();
            long alloc0 = allocatedBytes();
            for (int i = 1; i < gen; i++) {
                long a = System.nanoTime();
                logits = s.step(next, null);
                for (int r = 0; r < rows; r++) next[r][0] = out[r][i] = argmax(logits[r]);
                steps[i - 1] = System.nanoTime() - a;
            }
            long alloc1 = allocatedBytes();
            return new Run(out, t1 - t0, t2 - t1, steps, alloc0 < 0 || alloc1 < 0 ? -1 : alloc1 - alloc0);
        }
    }

    public static Report run(Options o, PrintWriter out) {
        ModelInfo mi = resolve(o);
        int maxLen = o.promptLen() + o.genLen();
        Report rep = new Report("generate");
        rep.meta.put("model", mi.label());
        rep.meta.put("model_dir", mi.dir().toString());
        rep.meta.put("parameters", mi.params());
        rep.meta.put("settings", Map.of("batches", java.util.Arrays.stream(o.batches()).boxed().toList(), "prompt_len", o.promptLen(), "gen_len", o.genLen(),
                "warmup", o.warmup(), "repeats", o.repeats(), "quick", o.quick(), "smoke", o.smoke(),
                "device", o.device().toString(), "dtype", o.dtype().toString(),
                "quantize", o.device().quantization().toString()));
        rep.meta.put("rounds", o.rounds());
        rep.meta.put("onnx_int4", o.int4Onnx() == null ? "off" : o.int4Onnx().toString());
        if (o.int4Onnx() != null) rep.notes.add("every engine runs the int4 MatMulNBits ONNX file " + mi.dir().resolve("model.onnx")
                + " (written by dev.cortado.bench.Int4Onnx from Cortado's quantizer: block 32, " + (o.int4Onnx().zeroPoints() ? "zero points" : "symmetric")
                + ", accuracy_level " + o.int4Onnx().accuracyLevel() + "; Cortado reads it through its MatMulNBits tracer)");
        if (o.cuda()) rep.notes.add("device " + o.device() + ", " + o.dtype() + ": the roofline column uses the host's read "
                + "bandwidth, not the GPU's; compare tok/s across engines instead");
        int threads = WorkerPool.shared().threads();
        out.printf("bench generate: %s (%,d parameters), prompt %d + gen %d tokens, batches %s, %d warm-up (and >= %d s) + %d timed runs, %d threads%s%n",
                mi.label(), mi.params(), o.promptLen(), o.genLen(), java.util.Arrays.toString(o.batches()), o.warmup(),
                o.warmup() == 0 || o.smoke() ? 0 : WARM_NANOS / 1_000_000_000L, o.repeats(), threads,
                o.rounds() > 1 ? ", " + o.rounds() + " rounds of the Java engines in turn" : "");
        out.flush();
        Host.Bandwidth bw = Host.bandwidth(o.smoke() ? 64L << 20 : 1L << 30, o.smoke() ? 2 : 5);
        rep.meta.put("bandwidth", Map.of("read_GBps", round(bw.readGBs()), "copy_GBps", round(bw.copyGBs()),
                "buffer_MiB", bw.bytes() >> 20, "threads", bw.threads()));
        out.printf("host memory bandwidth (%d MiB buffer, %d threads, best of passes): read %.1f GB/s, copy %.1f GB/s%n",
                bw.bytes() >> 20, bw.threads(), bw.readGBs(), bw.copyGBs());
        out.flush();

        Map<Integer, int[][]> prompts = new LinkedHashMap<>();
        for (int b : o.batches()) prompts.put(b, prompt(b, o.promptLen(), mi.vocab(), 1000L + b));

        List<String> java = o.engines().stream().filter(e -> e.equals("cortado") || e.equals("ort")).toList();
        Competitors py = Competitors.find(o.python(), rep.notes);
        List<String> pyEngines = py == null ? List.of() : o.engines().stream().filter(e -> !java.contains(e)).toList();
        int steps = o.batches().length * (o.warmup() + o.repeats());
        Progress progress = new Progress(o.rounds() * java.size() * steps + pyEngines.size());
        List<List<EngineResult>> rounds = new ArrayList<>();
        List<Host.Bandwidth> roundBw = new ArrayList<>();
        for (int round = 0; round < o.rounds(); round++) {
            // each round's own read probe (the first round's is the one above): the roofline per round divides by the
            // bandwidth of the minutes it ran in, not by one probe taken before a drift
            Host.Bandwidth rb = round == 0 ? bw : Host.bandwidth(o.smoke() ? 64L << 20 : 1L << 30, o.smoke() ? 2 : 3);
            if (round > 0) progress.log(String.format("round %d: host read %.1f GB/s", round + 1, rb.readGBs()));
            roundBw.add(rb);
            List<EngineResult> results = new ArrayList<>();
            List<String> skipNotes = round == 0 ? rep.notes : new ArrayList<>();
            runJavaEngines(java, mi, o, maxLen, threads, prompts, progress, skipNotes, results, steps);
            rounds.add(results);
        }
        List<EngineResult> results = pool(rounds);
        for (String e : pyEngines) {
            progress.show(e + " (python)");
            EngineResult r = py.run(e, mi.dir(), o, prompts, rep.notes);
            if (r != null) results.add(r);
            progress.step(e + " done");
        }
        progress.finish();
        report(rep, mi, o, bw, results, out);
        if (o.rounds() > 1) RoundRatios.print(rep, mi, o, rounds, roundBw, out);
        return rep;
    }

    /** One round: every Java engine loaded, run and closed in turn (notes: where skips are noted). */
    private static void runJavaEngines(List<String> java, ModelInfo mi, Options o, int maxLen, int threads, Map<Integer, int[][]> prompts,
                                       Progress progress, List<String> notes, List<EngineResult> results, int steps) {
        for (String e : java) {
            Supplier<LanguageModel> open;
            if (e.equals("cortado")) {
                String why = Engines.cortadoUnavailable(mi.dir());
                if (why != null) {
                    notes.add("cortado skipped: " + why);
                    progress.log("cortado skipped: " + why);
                    for (int i = 0; i < steps; i++) progress.step("");
                    continue;
                }
                open = () -> Engines.cortado(mi.dir(), o.device(), o.dtype());
            } else if (o.cuda()) {
                notes.add("ort skipped: ONNX Runtime Java runs on the CPU (ort-python uses CUDAExecutionProvider when present)");
                for (int i = 0; i < steps; i++) progress.step("");
                continue;
            } else {
                Path onnx = Engines.onnxOf(mi.dir());
                if (onnx == null) {
                    notes.add("ort skipped: no model.onnx in " + mi.dir());
                    for (int i = 0; i < steps; i++) progress.step("");
                    continue;
                }
                open = () -> new Engines.Ort(onnx, maxLen, threads);
            }
            results.add(runJava(e, open, o, prompts, progress, notes));
        }
    }

    /**
     * Each engine's rounds as one result: every round's runs (per batch, round after round), the largest peak RSS
     * (with that round's RSS before loading), the first round's load time, the first error.
     */
    static List<EngineResult> pool(List<List<EngineResult>> rounds) {
        if (rounds.size() == 1) return new ArrayList<>(rounds.getFirst());
        Map<String, EngineResult> byEngine = new LinkedHashMap<>();
        for (List<EngineResult> round : rounds) {
            for (EngineResult r : round) {
                EngineResult a = byEngine.get(r.engine());
                if (a == null) {
                    Map<Integer, List<Run>> runs = new LinkedHashMap<>();
                    r.runs().forEach((b, rs) -> runs.put(b, new ArrayList<>(rs)));
                    byEngine.put(r.engine(), new EngineResult(r.engine(), r.loadS(), r.peakRssMb(), r.rssBeforeMb(), runs, r.error(), r.weightBytes()));
                    continue;
                }
                r.runs().forEach((b, rs) -> a.runs().computeIfAbsent(b, x -> new ArrayList<>()).addAll(rs));
                boolean higher = r.peakRssMb() > a.peakRssMb();
                byEngine.put(r.engine(), new EngineResult(a.engine(), a.loadS(), higher ? r.peakRssMb() : a.peakRssMb(),
                        higher ? r.rssBeforeMb() : a.rssBeforeMb(), a.runs(), a.error() != null ? a.error() : r.error(),
                        a.weightBytes() > 0 ? a.weightBytes() : r.weightBytes()));
            }
        }
        return new ArrayList<>(byEngine.values());
    }

    /** Median decode tok/s of one engine's runs at batch b (NaN without runs). */
    static double decodeMedian(EngineResult r, int b) {
        return Stats.of(r.runs().getOrDefault(b, List.of()).stream().mapToDouble(x -> x.decodeTokS(b)).filter(x -> !Double.isNaN(x))
                .toArray()).median();
    }

    /**
     * What one engine measured: per batch the timed runs and the first run's tokens; {@code weightBytes} the weight
     * bytes it streams per decode step when they differ from the model's (Cortado's bf16/int8/int4 storage), else -1.
     */
    record EngineResult(String engine, double loadS, double peakRssMb, double rssBeforeMb, Map<Integer, List<Run>> runs, String error,
                        long weightBytes) {
        EngineResult(String engine, double loadS, double peakRssMb, double rssBeforeMb, Map<Integer, List<Run>> runs, String error) {
            this(engine, loadS, peakRssMb, rssBeforeMb, runs, error, -1);
        }
    }

    /**
     * The bytes of packed weights a Cortado CPU model streams per decode step when its storage is not the files'
     * float32 (--dtype bf16, --quantize, the int4 MatMulNBits file of --onnx-int4), else -1: the roofline then divides by
     * what is really read (the int4 file's float32 embedding table is gathered a row per token, not streamed).
     */
    private static long storedWeightBytes(LanguageModel m, Options o) {
        boolean stored = o.dtype() != dev.cortado.tensor.DType.F32 || o.device().quantization().enabled() || o.int4Onnx() != null;
        if (stored && !o.cuda() && m instanceof dev.cortado.engine.DecoderModel dm
                && dm.backend() instanceof dev.cortado.backend.cpu.CpuBackend cb) {
            return cb.weightBytes();
        }
        return -1;
    }

    private static EngineResult runJava(String engine, Supplier<LanguageModel> open, Options o, Map<Integer, int[][]> prompts,
                                        Progress progress, List<String> notes) {
        System.gc();
        boolean reset = Host.resetPeakRss();
        double before = Host.rssMb();
        Map<Integer, List<Run>> runs = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        double loadS = Double.NaN;
        long weightBytes = -1;
        try (LanguageModel m = open.get()) {
            loadS = (System.nanoTime() - t0) / 1e9;
            weightBytes = storedWeightBytes(m, o);
            for (var e : prompts.entrySet()) {
                List<Run> timed = new ArrayList<>();
                long w0 = System.nanoTime();
                WorkerPool.WaitStats waits0 = null;
                for (int i = 0; i < o.warmup() + o.repeats(); i++) {
                    progress.show(engine + " b=" + e.getKey() + (i < o.warmup() ? " warm-up" : " run " + (i - o.warmup() + 1)));
                    if (i == o.warmup()) waits0 = WorkerPool.shared().waitStats();
                    Run r = greedy(m, e.getValue(), o.genLen(), progress);
                    if (i >= o.warmup()) timed.add(r);
                    else if (i == o.warmup() - 1 && !o.smoke()) {
                        // the warm-up floor: more warm-up runs until the JIT had WARM_NANOS (every Java engine alike),
                        // and then while a run's decode heap allocation per token still falls by > 10 % (kernels
                        // leaving the interpreter/C1, where every Vector API op allocates), up to 5 × WARM_NANOS: on a
                        // loaded 2-core host a --quick b1 run was otherwise timed partly before C2 (1,300 KB/token)
                        double last = r.allocKbPerToken();
                        while (System.nanoTime() - w0 < WARM_NANOS) last = greedy(m, e.getValue(), o.genLen(), progress).allocKbPerToken();
                        for (double now; System.nanoTime() - w0 < 5 * WARM_NANOS; last = now) {
                            now = greedy(m, e.getValue(), o.genLen(), progress).allocKbPerToken();
                            if (Double.isNaN(now) || Double.isNaN(last) || now > 0.9 * last) break;
                        }
                    }
                    progress.step(engine + " b=" + e.getKey());
                }
                runs.put(e.getKey(), timed);
                if (WorkerPool.waitStatsEnabled() && waits0 != null && !timed.isEmpty()) {
                    WorkerPool.WaitStats w = WorkerPool.shared().waitStats().minus(waits0);
                    int n = timed.size();
                    notes.add(String.format("pool waits, %s b=%d, per timed run: %.0f caller waits (%.2f ms), %.1f of them >= 100 us (%.2f ms)",
                            engine, e.getKey(), (double) w.waits() / n, w.waitNs() / 1e6 / n, (double) w.longWaits() / n, w.longWaitNs() / 1e6 / n));
                }
            }
        } catch (RuntimeException | OutOfMemoryError ex) {
            notes.add(engine + " failed: " + ex.getMessage());
            progress.log(engine + " failed: " + ex);
            return new EngineResult(engine, loadS, Host.peakRssMb(), before, runs, String.valueOf(ex.getMessage()));
        }
        double rss = Host.peakRssMb();
        if (!reset && engine.equals("ort")) notes.add("peak RSS could not be reset between engines: ort's includes cortado's");
        return new EngineResult(engine, loadS, rss, before, runs, null, weightBytes);
    }

    private static void report(Report rep, ModelInfo mi, Options o, Host.Bandwidth bw, List<EngineResult> results, PrintWriter out) {
        rep.columns.addAll(List.of("engine", "batch", "prefill tok/s", "decode tok/s", "decode min", "decode max", "spread %",
                "TTFT ms", "tok p50 ms", "tok p99 ms", "roofline %", "heap alloc KB/token", "peak RSS MiB", "RSS Δ MiB", "load s", "tokens"));
        // token agreement first: the reference is Cortado when it ran, else ORT
        EngineResult ref = results.stream().filter(r -> r.error() == null && !r.runs().isEmpty()).findFirst().orElse(null);
        Map<String, Map<Integer, String>> agree = new LinkedHashMap<>();
        for (EngineResult r : results) {
            Map<Integer, String> a = new LinkedHashMap<>();
            for (int b : o.batches()) {
                List<Run> rs = r.runs().get(b);
                if (rs == null || rs.isEmpty()) a.put(b, "n/a");
                else if (r == ref) a.put(b, "reference");
                else {
                    List<Run> refRuns = ref.runs().get(b);
                    a.put(b, refRuns == null || refRuns.isEmpty() ? "n/a" : compare(refRuns.getFirst().tokens(), rs.getFirst().tokens()));
                }
            }
            agree.put(r.engine(), a);
        }
        if (ref != null) {
            out.println("token check (greedy, same prompt ids; reference " + ref.engine() + "):");
            for (var e : agree.entrySet()) {
                if (e.getKey().equals(ref.engine())) continue;
                out.println("  " + e.getKey() + ": " + e.getValue());
                for (var b : e.getValue().entrySet()) {
                    if (b.getValue().startsWith("DIFFER")) {
                        rep.notes.add(e.getKey() + " tokens differ from " + ref.engine() + " at batch " + b.getKey() + ": " + b.getValue()
                                + " (timings compare the same amount of work, but outputs are not identical)");
                    }
                }
            }
        }
        Map<String, double[]> decodeSeries = new LinkedHashMap<>(), prefillSeries = new LinkedHashMap<>(), roofSeries = new LinkedHashMap<>();
        List<String> cats = new ArrayList<>();
        for (int b : o.batches()) cats.add("batch " + b);
        for (EngineResult r : results) {
            Map<Integer, Double> roofline = new LinkedHashMap<>();
            for (int b : o.batches()) roofline.put(b, b * bw.readGBs() * 1e9 / stepBytes(mi, o, results, r, b));
            if (r.weightBytes() > 0) rep.notes.add(String.format("%s roofline: its stored weights, %.1f MB per decode step (not the files' %.1f MB)",
                    r.engine(), r.weightBytes() / 1e6, mi.weightBytes() / 1e6));
            double[] dec = new double[o.batches().length], pre = new double[dec.length], roof = new double[dec.length];
            for (int bi = 0; bi < o.batches().length; bi++) {
                int b = o.batches()[bi];
                List<Run> rs = r.runs().getOrDefault(b, List.of());
                Map<String, Object> row = rep.row();
                row.put("engine", r.engine());
                row.put("batch", b);
                double[] pf = rs.stream().mapToDouble(x -> b * o.promptLen() / (x.prefillNs() / 1e9)).toArray();
                double[] dc = rs.stream().mapToDouble(x -> x.decodeTokS(b)).toArray();
                double[] ttft = rs.stream().mapToDouble(x -> (x.sessionNs() + x.prefillNs()) / 1e6).toArray();
                double[] lat = rs.stream().flatMapToLong(x -> java.util.Arrays.stream(x.stepNs())).mapToDouble(ns -> ns / 1e6).toArray();
                Stats sp = Stats.of(pf), sd = Stats.of(dc), st = Stats.of(ttft);
                row.put("prefill tok/s", sp.median());
                row.put("decode tok/s", sd.median());
                row.put("decode min", sd.min());
                row.put("decode max", sd.max());
                row.put("spread %", sd.spreadPct());
                row.put("TTFT ms", st.median());
                row.put("tok p50 ms", Stats.percentile(lat, 50));
                row.put("tok p99 ms", Stats.percentile(lat, 99));
                row.put("roofline %", 100 * sd.median() / roofline.get(b));
                double[] alloc = rs.stream().mapToDouble(Run::allocKbPerToken).filter(x -> !Double.isNaN(x)).toArray();
                row.put("heap alloc KB/token", Stats.of(alloc).median());
                row.put("peak RSS MiB", r.peakRssMb());
                row.put("RSS Δ MiB", r.peakRssMb() - r.rssBeforeMb());
                row.put("load s", r.loadS());
                row.put("tokens", r.error() != null ? "error" : agree.get(r.engine()).get(b));
                row.put("prefill_tok_s_runs", pf);
                row.put("decode_tok_s_runs", dc);
                row.put("ttft_ms_runs", ttft);
                row.put("prefill_spread_pct", sp.spreadPct());
                row.put("roofline_tok_s", roofline.get(b));
                if (r.error() != null) row.put("error", r.error());
                dec[bi] = sd.median();
                pre[bi] = sp.median();
                roof[bi] = 100 * sd.median() / roofline.get(b);
            }
            decodeSeries.put(r.engine(), dec);
            prefillSeries.put(r.engine(), pre);
            roofSeries.put(r.engine(), roof);
        }
        String sub = mi.label() + ", prompt " + o.promptLen() + " + gen " + o.genLen();
        rep.charts.add(new Report.Chart("decode", "Decode tok/s by batch size — " + sub, "batch size", "decode tokens/s (median)", cats, decodeSeries));
        rep.charts.add(new Report.Chart("prefill", "Prefill tok/s by batch size — " + sub, "batch size", "prefill tokens/s (median)", cats, prefillSeries));
        rep.charts.add(new Report.Chart("roofline", String.format("Decode %% of roofline (read bandwidth %.1f GB/s) — %s", bw.readGBs(), sub),
                "batch size", "% of roofline", cats, roofSeries));
        rep.notes.add(String.format("roofline: bytes read per decode step = weights %.1f MB + KV at mean context %.0f (%.1f KB per token per row), ÷ measured read bandwidth %.1f GB/s",
                mi.weightBytes() / 1e6, o.promptLen() + o.genLen() / 2.0, 2.0 * mi.layers() * mi.kvHeads() * mi.headDim() * 4 / 1e3, bw.readGBs()));
        rep.notes.add("peak RSS = the process's peak (Java engines share the bench JVM, so ort's includes heap the JVM kept after cortado); "
                + "RSS Δ = peak minus RSS just before the engine loaded (model files are mmapped: their pages count as resident)");
        rep.notes.add("heap alloc KB/token = Java heap bytes allocated by all threads of the bench JVM during the decode steps "
                + "(com.sun.management.ThreadMXBean) ÷ batch × (gen − 1), median over repeats (ORT's native buffers are not Java heap)");
        rep.notes.add("TTFT = session setup + prefill + first argmax; decode tok/s = batch × (gen − 1) ÷ decode time; spread = (max − min) ÷ median of decode tok/s over repeats");
        rep.printTable(out);
        printRatios(rep, o, out);
    }

    private static void printRatios(Report rep, Options o, PrintWriter out) {
        for (int b : o.batches()) {
            Map<String, Object> c = find(rep, "cortado", b);
            if (c == null) continue;
            for (Map<String, Object> r : rep.rows) {
                if (!r.get("batch").equals(b) || r == c) continue;
                double x = (double) c.get("decode tok/s") / (double) r.get("decode tok/s");
                String t = String.valueOf(r.get("tokens"));
                out.printf("decode cortado/%s at batch %d: %.2fx%s%n", r.get("engine"), b, x, t.equals("same") ? "" : "  (tokens: " + t + ")");
            }
        }
        out.flush();
    }

    private static Map<String, Object> find(Report rep, String engine, int b) {
        for (Map<String, Object> r : rep.rows) if (r.get("engine").equals(engine) && r.get("batch").equals(b)) return r;
        return null;
    }

    static String compare(int[][] ref, int[][] got) {
        if (ref.length != got.length) return "DIFFER: " + got.length + " rows vs " + ref.length;
        int first = Integer.MAX_VALUE, row = -1, same = 0, total = 0;
        for (int r = 0; r < ref.length; r++) {
            for (int j = 0; j < Math.min(ref[r].length, got[r].length); j++) {
                total++;
                if (ref[r][j] == got[r][j]) same++;
                else if (j < first) {
                    first = j;
                    row = r;
                }
            }
        }
        return row < 0 ? "same" : "DIFFER: row " + row + " from step " + first + " (" + same + "/" + total + " tokens equal)";
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    static ModelInfo resolve(Options o) {
        String m = o.model();
        if (m.startsWith("synthetic:")) {
            String name = m.substring("synthetic:".length());
            if (o.smoke() && !name.endsWith("-smoke")) name += "-smoke";
            SyntheticModels.Spec s = SyntheticModels.spec(name);
            if (o.int4Onnx() != null) {
                if (!s.decoderOnly()) throw new CortadoException("synthetic:" + name + " is not a decoder-only model (bench generate needs one)");
                if (o.device().quantization().enabled()) throw new CortadoException("--onnx-int4 runs the int4 ONNX file as it is; drop --quantize");
                Path root = SyntheticModels.cacheRoot();
                System.err.println("int4 MatMulNBits ONNX of " + name + " under " + root + " (written once) ...");
                Path dir = Int4Onnx.materialize(name, root, o.int4Onnx());
                long bytes = 0;
                try (dev.cortado.onnx.OnnxModel om = dev.cortado.onnx.OnnxModel.open(dir.resolve("model.onnx"))) {
                    for (var e : om.graph().initializers().entrySet()) {
                        if (!e.getKey().equals("wpe.weight")) bytes += e.getValue().numel() * e.getValue().dtype().byteSize();
                    }
                }
                return new ModelInfo(dir, "synthetic:" + name + " (int4 MatMulNBits ONNX)", s.layers(), s.kvHeads(), s.headDim(), s.vocab(),
                        bytes, SyntheticModels.parameters(s));
            }
            Path root = SyntheticModels.cacheRoot();
            if (!Files.isRegularFile(root.resolve(name).resolve(".complete"))) {
                System.err.println("generating synthetic model " + name + " (" + String.format("%,d", SyntheticModels.parameters(s))
                        + " parameters) under " + root + " ...");
            }
            Path dir = SyntheticModels.materialize(name, root);
            if (!s.decoderOnly()) throw new CortadoException("synthetic:" + name + " is not a decoder-only model (bench generate needs one)");
            return new ModelInfo(dir, "synthetic:" + name, s.layers(), s.kvHeads(), s.headDim(), s.vocab(),
                    SyntheticModels.weightBytesPerStep(s), SyntheticModels.parameters(s));
        }
        Path dir = Path.of(m);
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new CortadoException("bench generate --model: " + m + " is neither synthetic:NAME nor a folder with config.json");
        }
        ModelConfig c = ModelConfig.load(dir.resolve("config.json"));
        boolean gpt2 = c.modelType().equals("gpt2");
        int layers = c.integerAny("num_hidden_layers", "n_layer");
        int heads = c.integerAny("num_attention_heads", "n_head");
        int hidden = c.integerAny("hidden_size", "n_embd");
        int kv = gpt2 ? heads : c.integer("num_key_value_heads", heads);
        int hd = gpt2 ? hidden / heads : c.integer("head_dim", hidden / heads);
        boolean tied = c.bool("tie_word_embeddings", gpt2);
        long bytes = 0, params = 0;
        Path onnx = Engines.onnxOf(dir);
        if (!Files.isRegularFile(dir.resolve("model.safetensors")) && !Files.isRegularFile(dir.resolve("model.safetensors.index.json")) && onnx != null) {
            // an ONNX-only folder (e.g. int4 MatMulNBits): bytes and elements as stored in the file
            try (dev.cortado.onnx.OnnxModel om = dev.cortado.onnx.OnnxModel.open(onnx)) {
                for (Tensor t : om.graph().initializers().values()) {
                    params += t.numel();
                    bytes += t.numel() * t.dtype().byteSize();
                }
            }
            return new ModelInfo(dir, dir.toString(), layers, kv, hd, c.integer("vocab_size"), bytes, params);
        }
        try (Safetensors st = Safetensors.openFolder(dir)) {
            for (var e : st.tensors().entrySet()) {
                Tensor t = e.getValue();
                params += t.numel();
                String n = e.getKey();
                boolean gathered = n.endsWith("wpe.weight") || (!tied && (n.endsWith("embed_tokens.weight") || n.endsWith("wte.weight")));
                if (!gathered) bytes += t.numel() * t.dtype().byteSize();
            }
        }
        return new ModelInfo(dir, dir.toString(), layers, kv, hd, c.integer("vocab_size"), bytes, params);
    }
}
