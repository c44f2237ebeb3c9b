package dev.cortado.bench;

import dev.cortado.backend.Backend;
import dev.cortado.tensor.Tensor;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.TreeMap;

/**
 * An op-level timer: a {@link Backend} that forwards every call to another and adds up the wall time of each
 * top-level op (an op a default method calls on the same backend counts in its caller), linears by shape class. Each
 * call costs a reflective hop (≈ 1 µs), so a timed run reads where the time goes, not how fast the engine is.
 * Single-threaded callers (a bench loop); the backend's own worker threads are inside the timed ops.
 */
final class OpTimer {
    private final Map<String, long[]> times = new TreeMap<>();
    private int depth;
    private boolean on;

    /** The timing backend over {@code target}. */
    Backend wrap(Backend target) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (proxy, m, args) -> {
            if (m.getName().equals("decodeStep")) {
                // a whole step's container (its body calls the ops on this backend): time the ops inside, not it
                try {
                    return m.invoke(target, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            }
            long t0 = System.nanoTime();
            depth++;
            try {
                return m.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            } finally {
                if (--depth == 0 && on) add(m.getName() + (m.getName().equals("linear") ? " " + shape(args) : ""), System.nanoTime() - t0);
            }
        });
    }

    /** Clears the totals and starts counting (after a warm-up). */
    void start() {
        times.clear();
        on = true;
    }

    void stop() {
        on = false;
    }

    private void add(String op, long nanos) {
        long[] a = times.computeIfAbsent(op, k -> new long[2]);
        a[0] += nanos;
        a[1]++;
    }

    /** "m=1 k192 n8000": rows as 1, ≤ 8, ≤ 64 or > 64, then the weight's shape. */
    private static String shape(Object[] args) {
        Tensor x = (Tensor) args[0], out = (Tensor) args[args.length - 1];   // linear(x, w, bias[, act], out)
        long n = out.dim(-1), k = x.dim(-1), m = x.numel() / k;
        return (m == 1 ? "m=1" : m <= 8 ? "m≤8" : m <= 64 ? "m≤64" : "m>64") + " k" + k + " n" + n;
    }

    /** The table: per op total ms, calls and µs per call per pass, and its share of {@code wallNanos}; the rest is host code. */
    void print(PrintWriter out, String title, long wallNanos, int passes) {
        long ops = 0;
        out.printf("  op profile, %s (%d passes, %.1f ms per pass):%n", title, passes, wallNanos / 1e6 / passes);
        out.printf("  %-28s %10s %9s %9s %6s%n", "op", "ms/pass", "calls", "µs/call", "%");
        for (var e : times.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0])).toList()) {
            long[] v = e.getValue();
            ops += v[0];
            out.printf("  %-28s %10.3f %9d %9.2f %6.1f%n", e.getKey(), v[0] / 1e6 / passes, v[1] / passes, v[0] / 1e3 / v[1], 100.0 * v[0] / wallNanos);
        }
        out.printf("  %-28s %10.3f %9s %9s %6.1f%n", "(outside ops: host code)", (wallNanos - ops) / 1e6 / passes, "", "", 100.0 * (wallNanos - ops) / wallNanos);
        out.flush();
    }
}
