package dev.cortado.bench;

import java.util.Arrays;

/** Noise summary of repeated measurements: min / median / max and the spread (max − min) / median. */
public record Stats(double min, double median, double max, int n) {
    public static Stats of(double... v) {
        if (v.length == 0) return new Stats(Double.NaN, Double.NaN, Double.NaN, 0);
        double[] s = v.clone();
        Arrays.sort(s);
        double med = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        return new Stats(s[0], med, s[s.length - 1], s.length);
    }

    public double spreadPct() {
        return median == 0 ? 0 : 100 * (max - min) / median;
    }

    /** Nearest-rank percentile (0..100). */
    public static double percentile(double[] v, double p) {
        if (v.length == 0) return Double.NaN;
        double[] s = v.clone();
        Arrays.sort(s);
        int i = (int) Math.ceil(p / 100 * s.length) - 1;
        return s[Math.max(0, Math.min(s.length - 1, i))];
    }
}
