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
                double med = median(e.getValue());
                String list = join(e.getValue(), "%.2f");
                out.printf("decode cortado/%s at batch %d, round by round: %s; median %.2fx%n", e.getKey(), b, list, med);
                rep.notes.add(String.format("decode cortado/%s at batch %d, round by round (each round's median run vs the same round's): %s; median %.2fx",
                        e.getKey(), b, list, med));
                perRound.put(e.getKey() + " batch " + b, Map.of("ratios", array(e.getValue()), "median", med));
            }
            for (var e : roof.entrySet()) {
                double med = median(e.getValue());
                String list = join(e.getValue(), "%.0f");
                out.printf("decode roofline %% of %s at batch %d, round by round (vs each round's read probe): %s; median %.0f %%%n", e.getKey(), b, list, med);
                rep.notes.add(String.format("decode roofline %% of %s at batch %d, round by round (each round's median run vs that round's read probe): %s; median %.0f %%",
                        e.getKey(), b, list, med));
                roofRound.put(e.getKey() + " batch " + b, Map.of("percent", array(e.getValue()), "median", med));
            }
        }
        rep.meta.put("round_ratios", perRound);
        rep.meta.put("round_roofline", roofRound);
        rep.meta.put("round_read_GBps", bw.stream().mapToDouble(Host.Bandwidth::readGBs).toArray());
        out.flush();
    }

    private static double[] array(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double median(List<Double> v) {
        return Stats.of(array(v)).median();
    }

    private static String join(List<Double> v, String fmt) {
        return v.stream().map(x -> String.format(fmt, x)).collect(Collectors.joining(" "));
    }
}
