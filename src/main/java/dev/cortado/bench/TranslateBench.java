package dev.cortado.bench;

import dev.cortado.CortadoException;
import dev.cortado.SharedPaths;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.engine.Seq2SeqRunner;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.registry.Families;
import dev.cortado.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Seq2seq throughput: sentences/s and generated tokens/s for beam 1 and 4 at batch 1 and 32, Cortado's engine vs
 * ONNX Runtime on the same model and the same sources (Debian dev sentences when ../shared is present), in one run.
 * Outputs must agree token for token before times are compared; a disagreement is reported. Each engine and setting
 * is first warmed up on the same sources for at least {@code warmupSeconds} (and one full pass): a JVM engine runs its
 * first passes in the interpreter and C1 code (≈ 1.5 s on a 2-core VM before C2 code for the vector kernels and the
 * decode loop settles), ONNX Runtime's native code needs none, so a one-sentence warm-up measured JIT compilation.
 */
public final class TranslateBench {
    private TranslateBench() {}

    public static Report run(Path model, int[] batches, int[] beams, int maxNew, int repeats, boolean smoke, PrintWriter out) {
        return run(model, batches, beams, maxNew, 0, repeats, smoke, out);
    }

    /** As above, each engine and setting warmed up for at least {@code warmupSeconds} (≥ 1 full pass; 0: one batch). */
    public static Report run(Path model, int[] batches, int[] beams, int maxNew, double warmupSeconds, int repeats,
                             boolean smoke, PrintWriter out) {
        return run(model, batches, beams, maxNew, warmupSeconds, repeats, smoke, false, out);
    }

    /** As above; {@code opProfile}: Cortado's timed passes also print where their time goes, op by op ({@link OpTimer}). */
    public static Report run(Path model, int[] batches, int[] beams, int maxNew, double warmupSeconds, int repeats,
                             boolean smoke, boolean opProfile, PrintWriter out) {
        Tokenizer tok = Tokenizer.fromFile(model.resolve("tokenizer.json"));
        List<String> pool = sources(smoke ? 2 : 64);
        Report rep = new Report("translate");
        rep.meta.put("model", model.toString());
        rep.meta.put("max_new_tokens", maxNew);
        rep.meta.put("warmup_s", warmupSeconds);
        rep.meta.put("repeats", repeats);
        rep.columns.addAll(List.of("engine", "beams", "batch", "sentences/s", "tokens/s", "min s", "max s", "tokens"));
        out.printf("bench translate: %s, %d sources, max %d new tokens, warm-up ≥ %.1f s, %d repeats%n", model, pool.size(),
                maxNew, warmupSeconds, repeats);
        out.printf("%-8s %5s %5s %12s %12s %8s%n", "engine", "beams", "batch", "sent/s", "tok/s", "tokens");
        Map<String, double[]> series = new LinkedHashMap<>();
        List<String> cats = new ArrayList<>();
        for (int beam : beams) for (int b : batches) cats.add("beam " + beam + " batch " + b);
        int col = 0;
        Map<String, List<int[]>> outputs = new LinkedHashMap<>();
        for (int beam : beams) {
            for (int b : batches) {
                for (Families.Engine engine : Families.Engine.values()) {
                    String name = engine.name().toLowerCase();
                    GenerationConfig cfg = GenerationConfig.fromFile(model.resolve("generation_config.json")).numBeams(beam).maxNewTokens(maxNew);
                    List<String> src = pool.subList(0, Math.min(pool.size(), Math.max(b, smoke ? 2 : 16)));
                    double[] secs = new double[repeats];
                    long tokens = 0;
                    List<int[]> ids = new ArrayList<>();
                    OpTimer timer = opProfile && engine == Families.Engine.CORTADO ? new OpTimer() : null;
                    try (Seq2Seq m = Families.openSeq2Seq(model, timer != null ? timer.wrap(new CpuBackend()) : new CpuBackend(), engine)) {
                        Seq2SeqRunner runner = new Seq2SeqRunner(m, tok, cfg, true, w -> { });
                        warmUp(runner, src, b, warmupSeconds);
                        if (timer != null) timer.start();
                        long timed0 = System.nanoTime();
                        for (int r = 0; r < repeats; r++) {
                            long t0 = System.nanoTime();
                            tokens = 0;
                            ids.clear();
                            for (List<String> batch : Seq2SeqRunner.batches(src, b)) {
                                for (GenerationResult g : runner.run(batch)) {
                                    tokens += g.ids().length;
                                    ids.add(g.ids());
                                }
                            }
                            secs[r] = (System.nanoTime() - t0) / 1e9;
                        }
                        if (timer != null) {
                            timer.stop();
                            timer.print(out, name + " beam " + beam + " batch " + b, System.nanoTime() - timed0, repeats);
                        }
                    }
                    Arrays.sort(secs);
                    double med = secs[repeats / 2];
                    double sps = src.size() / med, tps = tokens / med;
                    String key = "beam " + beam + " batch " + b;
                    String agree = "reference";
                    if (outputs.containsKey(key)) {
                        List<int[]> ref = outputs.get(key);
                        boolean same = ref.size() == ids.size();
                        for (int i = 0; same && i < ids.size(); i++) same = Arrays.equals(ref.get(i), ids.get(i));
                        agree = same ? "same" : "DIFFER";
                        if (!same) rep.notes.add(name + " tokens differ from cortado at " + key);
                    } else {
                        outputs.put(key, new ArrayList<>(ids));
                    }
                    Map<String, Object> row = rep.row();
                    row.put("engine", name);
                    row.put("beams", beam);
                    row.put("batch", b);
                    row.put("sentences/s", Math.round(sps * 100) / 100.0);
                    row.put("tokens/s", Math.round(tps * 10) / 10.0);
                    row.put("min s", Math.round(secs[0] * 1000) / 1000.0);
                    row.put("max s", Math.round(secs[repeats - 1] * 1000) / 1000.0);
                    row.put("tokens", agree);
                    series.computeIfAbsent(name, k -> new double[cats.size()])[col] = sps;
                    out.printf("%-8s %5d %5d %12.2f %12.1f %8s%n", name, beam, b, sps, tps, agree);
                    out.flush();
                }
                col++;
            }
        }
        rep.charts.add(new Report.Chart("sentences", "Translation sentences/s — " + model.getFileName(), "beams / batch",
                "sentences/s (median)", cats, series));
        return rep;
    }

    /** The timed workload until {@code seconds} have passed (at least one pass); 0: a single batch. */
    private static void warmUp(Seq2SeqRunner runner, List<String> src, int b, double seconds) {
        if (seconds <= 0) {
            runner.run(src.subList(0, Math.min(b, src.size())));
            return;
        }
        long end = System.nanoTime() + (long) (seconds * 1e9);
        do {
            for (List<String> batch : Seq2SeqRunner.batches(src, b)) runner.run(batch);
        } while (System.nanoTime() < end);
    }

    /** English sources: the en-de dev split's `en` column when ../shared is present, else fixed sentences. */
    static List<String> sources(int n) {
        Path shared = SharedPaths.root();
        List<String> out = new ArrayList<>();
        if (shared != null) {
            Path dev = shared.resolve("data/debian-descriptions/en-de/dev.tsv");
            try {
                if (Files.isRegularFile(dev)) {
                    List<String> lines = Files.readAllLines(dev);
                    int col = Arrays.asList(lines.getFirst().split("\t")).indexOf("en");
                    for (int i = 1; i < lines.size() && out.size() < n; i++) {
                        String[] f = lines.get(i).split("\t", -1);
                        if (col >= 0 && col < f.length && f[col].length() < 200) out.add(f[col]);
                    }
                }
            } catch (IOException e) {
                throw new CortadoException("cannot read " + dev + ": " + e.getMessage(), e);
            }
        }
        List<String> fixed = List.of("This package contains the documentation.", "A library for parsing XML files.",
                "Development files for the C library.", "Fonts for the desktop.");
        for (int i = 0; out.size() < n; i++) out.add(fixed.get(i % fixed.size()));
        return out;
    }
}
