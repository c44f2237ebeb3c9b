package dev.cortado.bench;

import dev.cortado.CortadoException;
import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.backend.cpu.WorkerPool;
import dev.cortado.engine.DecoderModel;
import dev.cortado.engine.EngineOptions;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code cortado bench serve}: a load generator in the bench JVM drives three systems on the same model with the same
 * seeded request list (mixed prompt and output lengths, greedy, each request generating exactly its own length):
 * the serving engine (continuous batching), static batching and one request at a time; at several loads: closed
 * loop (N concurrent streams) and open loop (seeded Poisson arrivals at R requests/s). Reports generated tok/s,
 * requests/s, TTFT, inter-token and end-to-end latency p50/p99 and peak KV blocks, and checks that every
 * request's greedy tokens agree across the three systems (one at a time is the reference).
 */
public final class ServeBench {
    private ServeBench() {}

    public record Options(String model, int requests, int promptMin, int promptMax, int genMin, int genMax, double[] rates,
                          int[] concurrency, Integer staticBatch, int batchWaitMs, EngineOptions engine, long seed, boolean warmup,
                          boolean smoke, boolean quick, List<String> systems) {}

    /** A load point: closed loop with {@code value} streams, or open loop at {@code value} requests/s. */
    record Load(String label, boolean closed, double value) {
        int staticBatch(Options o) {
            return o.staticBatch() != null ? o.staticBatch() : closed ? (int) value : 8;
        }
    }

    record Run(String system, Load load, ServeLoad.Outcome outcome, int kvPeak, double cpuSeconds, Map<String, Object> extra) {}

    public static Report run(Options o, PrintWriter out) {
        for (String s : o.systems())
            if (!ServeSystems.ALL.contains(s)) throw new CortadoException("unknown serve system '" + s + "' (" + ServeSystems.ALL + ")");
        GenerateBench.ModelInfo mi = GenerateBench.resolve(new GenerateBench.Options(o.model(), new int[] {1}, 1, 1, 0, 1,
                o.smoke(), o.quick(), null, "off", List.of()));
        String why = Engines.cortadoUnavailable(mi.dir());
        if (why != null) throw new CortadoException("bench serve: " + why);
        List<Load> loads = new ArrayList<>();
        for (int c : o.concurrency()) loads.add(new Load("c=" + c, true, c));
        for (double r : o.rates()) loads.add(new Load(fmt(r) + " req/s", false, r));
        if (loads.isEmpty()) throw new CortadoException("bench serve needs at least one --concurrency or --rates value");
        EngineOptions engineOptions = o.engine();

        Report rep = new Report("serve");
        rep.meta.put("model", mi.label());
        rep.meta.put("model_dir", mi.dir().toString());
        rep.meta.put("parameters", mi.params());
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("requests_per_load", o.requests());
        settings.put("prompt_len", o.promptMin() + ".." + o.promptMax());
        settings.put("gen_len", o.genMin() + ".." + o.genMax());
        settings.put("concurrency", Arrays.toString(o.concurrency()));
        settings.put("rates_per_s", Arrays.toString(o.rates()));
        settings.put("static_batch", o.staticBatch() != null ? o.staticBatch() : "closed loop: = streams; open loop: 8");
        settings.put("static_batch_wait_ms", o.batchWaitMs());
        settings.put("engine_token_budget", engineOptions.tokenBudget());
        settings.put("engine_kv_memory", engineOptions.kvMemoryBytes() > 0 ? engineOptions.kvMemoryBytes() : "default");
        settings.put("engine_gather_us", engineOptions.gatherMicros());
        settings.put("seed", o.seed());
        settings.put("quick", o.quick());
        settings.put("smoke", o.smoke());
        rep.meta.put("settings", settings);
        rep.meta.put("threads", WorkerPool.shared().threads());
        rep.meta.put("load_average_start", loadAverage());
        out.printf("bench serve: %s (%,d parameters), %d requests per load (prompt %d..%d, gen %d..%d tokens, seed %d), loads %s, systems %s, %d threads%n",
                mi.label(), mi.params(), o.requests(), o.promptMin(), o.promptMax(), o.genMin(), o.genMax(), o.seed(),
                loads.stream().map(Load::label).toList(), o.systems(), WorkerPool.shared().threads());
        out.flush();

        List<Run> runs = new ArrayList<>();
        try (LanguageModel lm = Families.openDecoder(mi.dir(), new CpuBackend(), Families.Engine.CORTADO)) {
            if (!(lm instanceof DecoderModel model))
                throw new CortadoException("bench serve: " + mi.dir() + " did not open as a Cortado decoder model");
            if (o.promptMax() + o.genMax() > model.maxPositions())
                throw new CortadoException("bench serve: prompt " + o.promptMax() + " + gen " + o.genMax() + " tokens exceed the model's context of "
                        + model.maxPositions() + " positions; lower --prompt-lens/--gen-lens");
            List<ServeLoad.Req> reqs = ServeLoad.requests(o.requests(), mi.vocab(), o.promptMin(), o.promptMax(), o.genMin(),
                    o.genMax(), o.seed());
            Progress progress = new Progress(loads.size() * o.systems().size() + (o.warmup() ? 1 : 0));
            if (o.warmup()) {
                warmup(model, engineOptions, mi.vocab(), o, progress);
                progress.step("warm-up done");
            }
            for (Load load : loads) {
                for (String sys : o.systems()) {
                    runs.add(runOne(sys, load, model, mi, engineOptions, reqs, o, progress));
                    progress.step(sys + " " + load.label());
                }
            }
            progress.finish();
        }
        rep.meta.put("load_average_end", loadAverage());
        ServeReport.fill(rep, mi.label(), o, loads, runs, out);
        return rep;
    }

    private static Run runOne(String sys, Load load, DecoderModel model, GenerateBench.ModelInfo mi, EngineOptions eo,
                              List<ServeLoad.Req> reqs, Options o, Progress progress) {
        // static batching gets its own model instance: its sessions keep one preallocated cache per batch size, freed here
        DecoderModel own = sys.equals(ServeSystems.STATIC)
                ? (DecoderModel) Families.openDecoder(mi.dir(), new CpuBackend(), Families.Engine.CORTADO) : null;
        try {
            ServeSystems.Server server = switch (sys) {
                case ServeSystems.ENGINE -> new ServeSystems.EngineSystem(model, eo);
                case ServeHttpSystem.NAME -> new ServeHttpSystem(model, eo);
                case ServeSystems.STATIC -> new ServeSystems.QueueSystem(own, load.staticBatch(o), o.batchWaitMs()).prime();
                default -> new ServeSystems.QueueSystem(model, 1, 0);
            };
            String label = sys + " " + load.label();
            System.gc(); // a previous run's garbage (e.g. a closed static model's weights) is not collected in this one
            ServeLoad.Outcome outcome;
            Map<String, Object> extra;
            int kv;
            long cpu0 = processCpuNs();
            try {
                outcome = load.closed() ? ServeLoad.closed(reqs, (int) load.value(), server, progress, label)
                        : ServeLoad.open(reqs, ServeLoad.poissonArrivals(reqs.size(), load.value(), o.seed() + 7), server, progress, label);
                cpu0 = processCpuNs() - cpu0;
                extra = server.extra();
                kv = server.kvPeak();
            } finally {
                server.close();
            }
            return new Run(sys, load, outcome, kv, cpu0 / 1e9, extra);
        } finally {
            if (own != null) own.close();
        }
    }

    /** A few short requests through each system, so the timed runs do not pay for JIT compilation. */
    private static void warmup(DecoderModel model, EngineOptions eo, int vocab, Options o, Progress progress) {
        List<ServeLoad.Req> reqs = ServeLoad.requests(4, vocab, o.promptMin(), o.promptMax(), 2, 4, o.seed() + 1);
        for (String sys : o.systems()) {
            ServeSystems.Server s = sys.equals(ServeSystems.ENGINE) ? new ServeSystems.EngineSystem(model, eo)
                    : sys.equals(ServeHttpSystem.NAME) ? new ServeHttpSystem(model, eo)
                    : new ServeSystems.QueueSystem(model, sys.equals(ServeSystems.STATIC) ? 4 : 1, 50);
            try {
                ServeLoad.closed(reqs, 4, s, progress, "warm-up " + sys);
            } finally {
                s.close();
            }
        }
    }

    static String fmt(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.3g", v);
    }

    /** CPU time of the whole process (all threads): less sensitive than wall time to other tenants of a shared host. */
    private static long processCpuNs() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
    }

    private static double loadAverage() {
        return Math.round(ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage() * 100) / 100.0;
    }
}
