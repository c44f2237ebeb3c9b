package dev.cortado.audio;

import dev.cortado.CortadoException;

/**
 * Polyphase windowed-sinc resampling, the algorithm of {@code scipy.signal.resample_poly} with its defaults:
 * rate ratio reduced to up/down, a low-pass FIR of 2·10·max(up, down) + 1 taps (cutoff 1/max(up, down) of
 * Nyquist, Kaiser window β = 5, unit DC gain) applied to the zero-stuffed signal, output length
 * ceil(n · up / down), zero padding outside the signal. Computed in double precision.
 */
public final class Resampler {
    private Resampler() {}

    static final double KAISER_BETA = 5.0;
    static final int HALF_LEN_PER_RATE = 10;

    public static float[] resample(float[] x, int from, int to) {
        if (from <= 0 || to <= 0) throw new CortadoException("sample rates must be positive, got " + from + " → " + to);
        if (from == to) return x.clone();
        int g = gcd(from, to), up = to / g, down = from / g;
        int maxRate = Math.max(up, down);
        int half = HALF_LEN_PER_RATE * maxRate;
        double[] h = filter(2 * half + 1, 1.0 / maxRate);
        for (int i = 0; i < h.length; i++) h[i] *= up;
        long nOut = ((long) x.length * up + down - 1) / down;
        if (nOut > Integer.MAX_VALUE - 8) throw new CortadoException("audio too long to resample: " + x.length + " samples");
        float[] y = new float[(int) nOut];
        for (int k = 0; k < y.length; k++) {
            // y[k] = Σ_n x[n] · h[k·down − n·up + half], 0 ≤ index ≤ 2·half
            long c = (long) k * down + half;
            long nMin = Math.max(0, ceilDiv(c - 2L * half, up));
            long nMax = Math.min(x.length - 1L, Math.floorDiv(c, up));
            double acc = 0;
            for (long n = nMin; n <= nMax; n++) acc += x[(int) n] * h[(int) (c - n * up)];
            y[k] = (float) acc;
        }
        return y;
    }

    /** scipy.signal.firwin(numtaps, cutoff, window=('kaiser', β)) for a low-pass, scaled to unit gain at DC. */
    static double[] filter(int taps, double cutoff) {
        double alpha = 0.5 * (taps - 1), sum = 0;
        double[] h = new double[taps];
        double i0b = besselI0(KAISER_BETA);
        for (int i = 0; i < taps; i++) {
            double m = i - alpha;
            double r = 2.0 * i / (taps - 1) - 1.0;
            double w = besselI0(KAISER_BETA * Math.sqrt(Math.max(0, 1 - r * r))) / i0b;
            h[i] = cutoff * sinc(cutoff * m) * w;
            sum += h[i];
        }
        for (int i = 0; i < taps; i++) h[i] /= sum;
        return h;
    }

    static double sinc(double x) {
        if (x == 0) return 1.0;
        double px = Math.PI * x;
        return Math.sin(px) / px;
    }

    /** Modified Bessel function of the first kind, order 0 (power series; converges fast for β ≤ 20). */
    static double besselI0(double x) {
        double sum = 1, term = 1, q = x * x / 4;
        for (int k = 1; k < 200; k++) {
            term *= q / ((double) k * k);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return sum;
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }
}
