package dev.cortado.backend.cpu;

import java.util.Arrays;

/**
 * Not a test: the pool's hand-off cost, JMH-free. Prints ns per parallelFor call for an empty body and for bodies of
 * ~1 µs and ~10 µs of work per call, and the time of a decode-like "step" of 110 back-to-back calls (inside a
 * {@link WorkerPool#section}, as CpuBackend.decodeStep runs them). Run on an idle host and beside a busy process
 * ({@code yes > /dev/null &}):
 * {@code java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes dev.cortado.backend.cpu.WorkerPoolBench [seconds]}.
 */
public final class WorkerPoolBench {
    private static volatile float sink;

    public static void main(String[] args) {
        double secs = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        WorkerPool pool = WorkerPool.shared();
        float[] data = new float[1 << 20];
        Arrays.fill(data, 1f);
        System.out.printf("WorkerPool: %d threads; %s%n", pool.threads(), Runtime.version());
        for (int floats : new int[] {0, 4096, 65536}) {
            for (int round = 0; round < 2; round++) {
                long[] lat = new long[1 << 21];
                int li = 0;
                long end = System.nanoTime() + (long) (secs * 1e9);
                while (li < lat.length) {
                    long s = System.nanoTime();
                    pool.parallelFor(64, (from, to) -> sum(data, from * (floats / 64), to * (floats / 64)));
                    long e = System.nanoTime();
                    lat[li++] = e - s;
                    if (e > end) break;
                }
                if (round == 1) report("parallelFor(64) over " + floats + " floats", lat, li);
            }
        }
        int per = 16384;
        for (int round = 0; round < 2; round++) {
            long[] lat = new long[1 << 20];
            int li = 0;
            long end = System.nanoTime() + (long) (secs * 1e9);
            while (li < lat.length) {
                long s = System.nanoTime();
                try (WorkerPool.Section sec = pool.section()) {
                    for (int op = 0; op < 110; op++) {
                        int base = (op * per) & (data.length - 1);
                        pool.parallelFor(64, (from, to) -> sum(data, base + from * (per / 64), base + to * (per / 64)));
                    }
                }
                long e = System.nanoTime();
                lat[li++] = e - s;
                if (e > end) break;
            }
            if (round == 1) report("step of 110 calls over " + per + " floats each", lat, li);
        }
    }

    private static void sum(float[] a, int from, int to) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int i = from; i + 3 < to; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        if (s0 + s1 + s2 + s3 == -1) sink++;
    }

    private static void report(String what, long[] lat, int n) {
        long[] s = Arrays.copyOf(lat, n);
        Arrays.sort(s);
        double mean = Arrays.stream(s).average().orElse(0);
        System.out.printf("%-45s %8d calls: mean %9.0f ns, p50 %8d, p90 %8d, p99 %9d, max %10d%n", what, n, mean, s[n / 2],
                s[n * 9 / 10], s[n * 99 / 100], s[n - 1]);
    }
}
