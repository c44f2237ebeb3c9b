package dev.cortado.audio;

/**
 * Mixed-radix Cooley–Tukey FFT (decimation in time, any size; radices are its prime factors, so Whisper's 400 =
 * 2⁴·5² takes ~7k complex multiply-adds instead of 160k for the direct DFT). Double precision; one instance per
 * size holds the twiddle table and scratch, so it is not thread-safe.
 */
final class Fft {
    private final int n;
    private final double[] cos, sin, tr = new double[64], ti = new double[64];
    private final double[] yr, yi;

    Fft(int n) {
        this.n = n;
        cos = new double[n];
        sin = new double[n];
        for (int j = 0; j < n; j++) {
            cos[j] = Math.cos(2 * Math.PI * j / n);
            sin[j] = -Math.sin(2 * Math.PI * j / n);   // W^j = exp(-2πij/n)
        }
        yr = new double[n];
        yi = new double[n];
    }

    /** |X_k|² for k = 0..n/2 of a real frame. */
    void power(double[] x, double[] out) {
        transform(x, 0, 1, n, 0);
        for (int k = 0; k < out.length; k++) out[k] = yr[k] * yr[k] + yi[k] * yi[k];
    }

    private void transform(double[] x, int off, int stride, int len, int yoff) {
        if (len == 1) {
            yr[yoff] = x[off];
            yi[yoff] = 0;
            return;
        }
        int p = smallestFactor(len), m = len / p, step = n / len;
        for (int q = 0; q < p; q++) transform(x, off + q * stride, stride * p, m, yoff + q * m);
        double[] ar = p <= 64 ? tr : new double[p], ai = p <= 64 ? ti : new double[p];
        for (int k = 0; k < m; k++) {
            for (int q = 0; q < p; q++) {
                ar[q] = yr[yoff + q * m + k];
                ai[q] = yi[yoff + q * m + k];
            }
            for (int s = 0; s < p; s++) {
                int idx = k + s * m;
                double sr = 0, si = 0;
                for (int q = 0; q < p; q++) {
                    int t = (int) ((long) q * idx % len) * step;
                    double c = cos[t], d = sin[t];
                    sr += ar[q] * c - ai[q] * d;
                    si += ar[q] * d + ai[q] * c;
                }
                yr[yoff + idx] = sr;
                yi[yoff + idx] = si;
            }
        }
    }

    private static int smallestFactor(int v) {
        for (int f = 2; f * f <= v; f++) if (v % f == 0) return f;
        return v;
    }
}
