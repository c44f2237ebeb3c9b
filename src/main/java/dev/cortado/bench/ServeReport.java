package dev.cortado.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns {@code bench serve} runs into the report: one row per system and load, token agreement, ratios, charts. */
final class ServeReport {
    private ServeReport() {}

    static final String TPS = "tok/s", RATIO = "× one-at-a-time";

    /** Latency and throughput of one run. */
    record Metrics(int requests, int failed, long tokens, double seconds, double[] ttftMs, double[] itlMs, double[] e2eS) {
        double tokPerS() {
            return tokens / seconds;
        }

        static Metrics of(ServeLoad.Outcome o) {
            List<Double> ttft = new ArrayList<>(), itl = new ArrayList<>(), e2e = new ArrayList<>();
            long tokens = 0;
            int failed = 0;
            for (ServeLoad.Trace t : o.traces()) {
                if (t.error != null) failed++;
                tokens += t.count;
                if (t.count == 0) continue;
                ttft.add((t.tokenAt[0] - t.arrival) / 1e6);
                for (int k = 1; k < t.count; k++) itl.add((t.tokenAt[k] - t.tokenAt[k - 1]) / 1e6);
                e2e.add((t.last() - t.arrival) / 1e9);
            }
            return new Metrics(o.traces().size(), failed, tokens, o.seconds(), arr(ttft), arr(itl), arr(e2e));
        }

        private static double[] arr(List<Double> v) {
            return v.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }

    static void fill(Report rep, String model, ServeBench.Options o, List<ServeBench.Load> loads, List<ServeBench.Run> runs,
                     PrintWriter out) {
        rep.columns.addAll(List.of("system", "load", "req/s", TPS, RATIO, "TTFT p50 ms", "TTFT p99 ms", "ITL p50 ms",
                "ITL p99 ms", "e2e p50 s", "e2e p99 s", "KV blocks peak", "tok/CPU-s", "tokens"));
        Map<String, double[]> tput = new LinkedHashMap<>(), ttft99 = new LinkedHashMap<>(), itl99 = new LinkedHashMap<>();
        List<String> cats = loads.stream().map(ServeBench.Load::label).toList();
        for (int li = 0; li < loads.size(); li++) {
            ServeBench.Load load = loads.get(li);
            List<ServeBench.Run> here = runs.stream().filter(r -> r.load() == load).toList();
            if (here.isEmpty()) continue;
            ServeBench.Run ref = here.stream().filter(r -> r.system().equals(ServeSystems.SEQUENTIAL)).findFirst().orElse(here.getFirst());
            Double seqTps = here.stream().filter(r -> r.system().equals(ServeSystems.SEQUENTIAL))
                    .map(r -> Metrics.of(r.outcome()).tokPerS()).findFirst().orElse(null);
            for (ServeBench.Run r : here) {
                Metrics m = Metrics.of(r.outcome());
                String agree = r == ref ? "reference" : compare(ref.outcome(), r.outcome());
                if (agree.startsWith("DIFFER"))
                    rep.notes.add(r.system() + " tokens differ from " + ref.system() + " at " + load.label() + ": " + agree);
                Map<String, Object> row = rep.row();
                row.put("system", r.system());
                row.put("load", load.label());
                row.put("req/s", (m.requests() - m.failed()) / m.seconds());
                row.put(TPS, m.tokPerS());
                row.put(RATIO, seqTps == null ? Double.NaN : m.tokPerS() / seqTps);
                row.put("TTFT p50 ms", Stats.percentile(m.ttftMs(), 50));
                row.put("TTFT p99 ms", Stats.percentile(m.ttftMs(), 99));
                row.put("ITL p50 ms", Stats.percentile(m.itlMs(), 50));
                row.put("ITL p99 ms", Stats.percentile(m.itlMs(), 99));
                row.put("e2e p50 s", Stats.percentile(m.e2eS(), 50));
                row.put("e2e p99 s", Stats.percentile(m.e2eS(), 99));
                row.put("KV blocks peak", r.kvPeak());
                row.put("tok/CPU-s", r.cpuSeconds() > 0 ? m.tokens() / r.cpuSeconds() : Double.NaN);
                row.put("cpu_seconds", r.cpuSeconds());
                row.put("tokens", m.failed() > 0 ? m.failed() + " failed; " + agree : agree);
                row.put("generated_tokens", m.tokens());
                row.put("requests", m.requests());
                row.put("failed", m.failed());
                row.put("seconds", m.seconds());
                row.putAll(r.extra());
                if (m.failed() > 0) {
                    ServeLoad.Trace bad = r.outcome().traces().stream().filter(t -> t.error != null).findFirst().orElseThrow();
                    rep.notes.add(r.system() + " at " + load.label() + ": " + m.failed() + " requests failed, e.g. request "
                            + bad.req.index() + ": " + bad.error);
                }
                tput.computeIfAbsent(r.system(), k -> nan(cats.size()))[li] = m.tokPerS();
                ttft99.computeIfAbsent(r.system(), k -> nan(cats.size()))[li] = Stats.percentile(m.ttftMs(), 99);
                itl99.computeIfAbsent(r.system(), k -> nan(cats.size()))[li] = Stats.percentile(m.itlMs(), 99);
            }
            ratios(rep, load, here);
        }
        String sub = model + ", prompt " + o.promptMin() + ".." + o.promptMax() + " + gen " + o.genMin() + ".." + o.genMax();
        rep.charts.add(new Report.Chart("throughput", "Generated tok/s by load — " + sub, "load", "generated tokens/s", cats, tput));
        rep.charts.add(new Report.Chart("ttft", "TTFT p99 by load — " + sub, "load", "TTFT p99 (ms)", cats, ttft99));
        rep.charts.add(new Report.Chart("itl", "Inter-token latency p99 by load — " + sub, "load", "ITL p99 (ms)", cats, itl99));
        rep.notes.add("all systems run greedy on the same request list, each request generating exactly its own length (no EOS); "
                + "tok/s and req/s = generated tokens (requests) ÷ time from the first arrival to the last token; "
                + RATIO + " = tok/s ÷ one-at-a-time's at the same load, measured in the same run");
        rep.notes.add("TTFT = arrival → first streamed token (open loop: from the scheduled Poisson arrival, so queueing counts); "
                + "ITL = gap between a request's consecutive tokens; e2e = arrival → its last token");
        rep.notes.add("static batching: a batch of B requests starts when B wait, all requests have arrived, or the worker has waited "
                + o.batchWaitMs() + " ms with a partial batch; it runs, left-padded, until its longest request is done and no request "
                + "joins it (a request's e2e ends at its own last token, as a streaming client sees it)");
        rep.notes.add("tok/CPU-s = generated tokens ÷ CPU seconds the bench process used during the run (all its threads, "
                + "spinning workers included): on a shared host it moves less with other tenants' load than tok/s does");
        rep.notes.add("KV blocks peak (" + dev.cortado.kv.KvPool.BLOCK + " positions per block): engine = peak blocks referenced in its paged pool; "
                + "static and one-at-a-time = the contiguous cache they preallocate (rows × full context), in blocks");
        rep.printTable(out);
        out.flush();
    }

    /** Throughput ratios engine ÷ others at one load, printed and noted. */
    private static void ratios(Report rep, ServeBench.Load load, List<ServeBench.Run> here) {
        ServeBench.Run engine = here.stream().filter(r -> r.system().equals(ServeSystems.ENGINE)).findFirst().orElse(null);
        if (engine == null) return;
        double e = Metrics.of(engine.outcome()).tokPerS();
        List<String> parts = new ArrayList<>();
        for (ServeBench.Run r : here) {
            if (r == engine) continue;
            parts.add(String.format(java.util.Locale.ROOT, "%.2f× %s", e / Metrics.of(r.outcome()).tokPerS(), r.system()));
        }
        if (!parts.isEmpty()) rep.notes.add("engine throughput at " + load.label() + ": " + String.join(", ", parts));
    }

    /** "same", or how many requests' tokens differ from the reference and where the first difference is. */
    static String compare(ServeLoad.Outcome ref, ServeLoad.Outcome got) {
        int differ = 0, firstReq = -1, firstStep = -1;
        for (int i = 0; i < ref.traces().size(); i++) {
            int[] a = ref.traces().get(i).tokens(), b = got.traces().get(i).tokens();
            if (Arrays.equals(a, b)) continue;
            differ++;
            if (firstReq < 0) {
                firstReq = i;
                firstStep = Arrays.mismatch(a, b);
            }
        }
        return differ == 0 ? "same" : "DIFFER: " + differ + "/" + ref.traces().size() + " requests (first: request " + firstReq
                + " from step " + firstStep + ")";
    }

    private static double[] nan(int n) {
        double[] v = new double[n];
        Arrays.fill(v, Double.NaN);
        return v;
    }
}
