package dev.cortado.bench;

import dev.cortado.bench.GenerateBench.EngineResult;
import dev.cortado.bench.GenerateBench.ModelInfo;
import dev.cortado.bench.GenerateBench.Options;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code bench generate --rounds N}, round by round: per competitor and batch, Cortado's decode tok/s ÷ the
 * competitor's in the same round; and per engine and batch, its decode tok/s as a % of that round's roofline (the read
 * bandwidth probed at the start of the same round). This host's read bandwidth drifted 27-47 GB/s within minutes, so
 * one probe before all rounds put the same code anywhere from 71 % to 125 % of "the" roofline.
 */
final class RoundRatios {
    private RoundRatios() {}

    static void print(Report rep, ModelInfo mi, Options o, List<List<EngineResult>> rounds, List<Host.Bandwidth> bw, PrintWriter out) {
        Map<String, Object> perRound = new LinkedHashMap<>(), roofRound = new LinkedHashMap<>();
        for (int b : o.batches()) {
            Map<String, List<Double>> ratios = new LinkedHashMap<>(), roof = new LinkedHashMap<>();
            for (int i = 0; i < rounds.size(); i++) {
                List<EngineResult> round = rounds.get(i);
                for (EngineResult r : round) {
                    double tokS = GenerateBench.decodeMedian(r, b);
                    if (!Double.isNaN(tokS)) {
                        double ceiling = b * bw.get(i).readGBs() * 1e9 / GenerateBench.stepBytes(mi, o, round, r, b);
                        roof.computeIfAbsent(r.engine(), x -> new ArrayList<>()).add(100 * tokS / ceiling);
                    }
                }
                EngineResult c = round.stream().filter(r -> r.engine().equals("cortado")).findFirst().orElse(null);
                if (c == null) continue;
                for (EngineResult r : round) {
                    if (r != c) ratios.computeIfAbsent(r.engine(), x -> new ArrayList<>()).add(GenerateBench.decodeMedian(c, b) / GenerateBench.decodeMedian(r, b));
                }
            }
            for (var e : ratios.entrySet()) {
                emit(out, rep, perRound, e.getKey() + " batch " + b, "ratios", e.getValue(), "%.2f",
                        "decode cortado/" + e.getKey() + " at batch " + b + ", round by round%s: %s; median %.2fx",
                        "", " (each round's median run vs the same round's)");
            }
            for (var e : roof.entrySet()) {
                emit(out, rep, roofRound, e.getKey() + " batch " + b, "percent", e.getValue(), "%.0f",
                        "decode roofline %% of " + e.getKey() + " at batch " + b + ", round by round%s: %s; median %.0f %%",
                        " (vs each round's read probe)", " (each round's median run vs that round's read probe)");
            }
        }
        rep.meta.put("round_ratios", perRound);
        rep.meta.put("round_roofline", roofRound);
        rep.meta.put("round_read_GBps", bw.stream().mapToDouble(Host.Bandwidth::readGBs).toArray());
        out.flush();
    }

    /**
     * One line to out and to the report's notes ({@code fmt}: the clause — {@code console} or {@code note} — then the
     * per-round list, then the median), and the values with their median into meta under key.
     */
    private static void emit(PrintWriter out, Report rep, Map<String, Object> meta, String key, String field, List<Double> v,
                             String each, String fmt, String console, String note) {
        double med = Stats.of(array(v)).median();
        String list = v.stream().map(x -> String.format(each, x)).collect(Collectors.joining(" "));
        out.println(String.format(fmt, console, list, med));
        rep.notes.add(String.format(fmt, note, list, med));
        meta.put(key, Map.of(field, array(v), "median", med));
    }

    private static double[] array(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
