package dev.cortado.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One fixed pool of worker threads sized to the cores, shared by all CPU ops (no thread creation per op).
 * {@link #parallelFor} splits [0, n) into contiguous ranges, one per thread; the caller runs the first range.
 * Workers spin briefly before parking, so back-to-back ops (a decode step) do not pay a wake-up each time.
 */
public final class WorkerPool {
    public interface RangeBody {
        void run(int from, int to);
    }

    private static final WorkerPool SHARED = new WorkerPool(Integer.getInteger("cortado.threads",
            Runtime.getRuntime().availableProcessors()));

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile RangeBody body;
    private volatile int n;
    private volatile long generation;
    private volatile Throwable failure;
    private final Object submitLock = new Object();

    public static WorkerPool shared() {
        return SHARED;
    }

    public WorkerPool(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = new Thread[this.threads - 1];
        for (int t = 1; t < this.threads; t++) {
            final int id = t;
            Thread w = new Thread(() -> loop(id), "cortado-cpu-" + t);
            w.setDaemon(true);
            workers[t - 1] = w;
            w.start();
        }
    }

    public int threads() {
        return threads;
    }

    private static int start(int id, int n, int threads) {
        return (int) ((long) n * id / threads);
    }

    private void loop(int id) {
        long seen = 0;
        while (true) {
            int spins = 0;
            while (generation == seen) {
                if (++spins < 20_000) Thread.onSpinWait();
                else LockSupport.parkNanos(200_000);
            }
            seen = generation;
            int total = n;
            try {
                int from = start(id, total, threads), to = start(id + 1, total, threads);
                if (from < to) body.run(from, to);
            } catch (Throwable t) {
                failure = t;
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    /** Runs body over [0, n) split across the pool; returns when all ranges are done. */
    public void parallelFor(int n, RangeBody body) {
        if (n <= 0) return;
        if (threads == 1 || n == 1 || Thread.currentThread().getName().startsWith("cortado-cpu-")) {
            body.run(0, n);
            return;
        }
        synchronized (submitLock) {
            failure = null;
            this.body = body;
            this.n = n;
            pending.set(threads - 1);
            generation = generation + 1;
            for (Thread w : workers) LockSupport.unpark(w);
            Throwable mine = null;
            try {
                int to = start(1, n, threads);
                if (to > 0) body.run(0, to);
            } catch (Throwable t) {
                mine = t;
            }
            while (pending.get() > 0) Thread.onSpinWait();
            this.body = null;
            Throwable f = mine != null ? mine : failure;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error e) throw e;
            if (f != null) throw new RuntimeException(f);
        }
    }
}
