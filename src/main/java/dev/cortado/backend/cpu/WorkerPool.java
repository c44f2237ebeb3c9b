package dev.cortado.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One fixed pool of worker threads sized to the cores, shared by all CPU ops (no thread creation per op).
 * {@link #parallelFor} cuts [0, n) into a few chunks per thread that the caller and the workers claim from a shared
 * counter, so a worker the OS has not scheduled yet never holds the caller up: the caller simply takes its chunks.
 * Workers spin briefly before parking, so back-to-back ops (a decode step) do not pay a wake-up each time.
 */
public final class WorkerPool {
    public interface RangeBody {
        void run(int from, int to);
    }

    private static final WorkerPool SHARED = new WorkerPool(Integer.getInteger("cortado.threads",
            Runtime.getRuntime().availableProcessors()));

    /** One parallelFor call: chunks are claimed through {@code next}; {@code done} counts finished chunks. */
    private static final class Job {
        final RangeBody body;
        final int n, chunks;
        final AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
        volatile Throwable failure;

        Job(RangeBody body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
        }

        /** Claims and runs chunks until none is left. */
        void work() {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    int from = (int) ((long) n * c / chunks), to = (int) ((long) n * (c + 1) / chunks);
                    if (from < to) body.run(from, to);
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    private final int threads;
    private final Thread[] workers;
    private final AtomicReference<Job> current = new AtomicReference<>();
    private final Object submitLock = new Object();

    public static WorkerPool shared() {
        return SHARED;
    }

    public WorkerPool(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = new Thread[this.threads - 1];
        for (int t = 1; t < this.threads; t++) {
            Thread w = new Thread(this::loop, "cortado-cpu-" + t);
            w.setDaemon(true);
            workers[t - 1] = w;
            w.start();
        }
    }

    public int threads() {
        return threads;
    }

    private void loop() {
        Job seen = null;
        while (true) {
            Job job;
            int spins = 0;
            while ((job = current.get()) == seen || job == null) {
                if (++spins < 20_000) Thread.onSpinWait();
                else LockSupport.parkNanos(200_000);
            }
            seen = job;
            job.work();
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
            Job job = new Job(body, n, Math.min(n, threads * 4));
            current.set(job);
            for (Thread w : workers) LockSupport.unpark(w);
            job.work();
            while (job.done.get() < job.chunks) Thread.onSpinWait();
            Throwable f = job.failure;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error e) throw e;
            if (f != null) throw new RuntimeException(f);
        }
    }
}
