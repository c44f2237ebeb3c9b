package dev.cortado.backend.cpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One fixed pool of worker threads sized to the cores, shared by all CPU ops (no thread creation per op).
 *
 * <p>{@link #parallelFor} cuts [0, n) into {@code min(n, 4·threads)} chunks (always the same boundaries for a given n,
 * whichever thread runs them, so results do not depend on the schedule) that the caller and the workers claim from one
 * counter; the caller works too, so a worker the OS has not scheduled yet never holds it up: the caller takes its
 * chunks. Hand-off costs no allocation and no system call while the workers are awake: the job's fields live in the
 * pool and are published by one 64-bit control word (epoch, chunk count, next chunk) that workers claim from with a CAS,
 * each hot counter on its own cache line (as ggml's threadpool and ORT's Eigen pool pad theirs).
 *
 * <p>Waiting is "spin, then block" as in ORT's pool: an idle worker polls for {@link #SPIN_NS} after its last chunk
 * (time, not iterations, so it stays awake across the ~100 back-to-back ops of a decode step), then parks until the next
 * job unparks it; inside a {@link #section} it never parks. A caller that has run out of chunks while a worker still
 * holds one (e.g. descheduled by the OS on a loaded host) spins for up to 5 ms, then yields, then (after 20 ms) parks
 * until that worker finishes: on an oversubscribed 2-vCPU host a caller that parked after 20 µs or 1 ms lost its core
 * for milliseconds each time (the chunk it waits for is short once its worker runs again).
 *
 * <p>Several threads may call parallelFor at once: the one that finds the pool busy runs its chunks on its own thread
 * (same boundaries); a nested call from inside a body runs inline too. The first exception a body throws is rethrown
 * to the caller once every claimed chunk has finished.
 */
public final class WorkerPool {
    public interface RangeBody {
        void run(int from, int to);
    }

    /** How long an idle worker (and a waiting caller) polls before it blocks. */
    static final long SPIN_NS = Long.getLong("cortado.pool.spinMicros", 2_000L) * 1_000L;
    /** How long a caller waiting for a worker's last chunk spins, then yields, before it parks. */
    private static final long CALLER_SPIN_NS = Long.getLong("cortado.pool.callerSpinMicros", 5_000L) * 1_000L,
            CALLER_YIELD_NS = Long.getLong("cortado.pool.callerYieldMicros", 20_000L) * 1_000L;
    /** Chunks per thread of a {@link #parallelFor} (-Dcortado.pool.chunksPerThread, default 4). */
    private static final int CHUNKS_PER_THREAD = Math.max(1, Math.min(64, Integer.getInteger("cortado.pool.chunksPerThread", 4)));
    /**
     * -Dcortado.pool.guided=true: chunks of decreasing size (chunks, chunks − 1, …, 1 parts; boundaries fixed for a
     * given n and chunk count), so that the last chunks claimed are the smallest; off: equal chunks.
     */
    static final boolean GUIDED = Boolean.getBoolean("cortado.pool.guided");

    /** Start of chunk c of [0, n) cut into {@code chunks} (c = chunks: n); depends only on n, chunks and c. */
    static int bound(int n, int chunks, int c) {
        if (!GUIDED) return (int) ((long) n * c / chunks);
        long pre = (long) c * chunks - (long) c * (c - 1) / 2, total = (long) chunks * (chunks + 1) / 2;
        return (int) (n * pre / total);
    }

    private static final WorkerPool SHARED = new WorkerPool(Integer.getInteger("cortado.threads",
            Runtime.getRuntime().availableProcessors()));

    /** A long padded onto its own cache line (the fields before and after are never written). */
    @SuppressWarnings("unused")
    private static final class PaddedLong {
        long p0, p1, p2, p3, p4, p5, p6, p7;
        volatile long value;
        long q0, q1, q2, q3, q4, q5, q6, q7;
    }

    @SuppressWarnings("unused")
    private static final class PaddedInt {
        long p0, p1, p2, p3, p4, p5, p6, p7;
        volatile int value;
        long q0, q1, q2, q3, q4, q5, q6, q7;
    }

    private static final VarHandle LONG_VALUE, INT_VALUE;

    static {
        try {
            LONG_VALUE = MethodHandles.lookup().findVarHandle(PaddedLong.class, "value", long.class);
            INT_VALUE = MethodHandles.lookup().findVarHandle(PaddedInt.class, "value", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The worker threads of a pool (a nested parallelFor from one runs inline). */
    private static final class Worker extends Thread {
        final WorkerPool pool;
        volatile boolean parked;

        Worker(WorkerPool pool, int index) {
            super("cortado-cpu-" + index);
            this.pool = pool;
            setDaemon(true);
        }

        @Override
        public void run() {
            pool.loop(this);
        }
    }

    private final int threads;
    private final Worker[] workers;

    /** Control word: epoch (bits 32-63) | chunks (16-31) | next chunk to claim (0-15). */
    private final PaddedLong ctl = new PaddedLong();
    /** Chunks of the current job finished. */
    private final PaddedInt done = new PaddedInt();
    /** The thread running a job on the pool (null when free); taken with a CAS. */
    private final java.util.concurrent.atomic.AtomicReference<Thread> owner = new java.util.concurrent.atomic.AtomicReference<>();
    /** Workers parked; the caller unparks only when this is non-zero. */
    private final AtomicInteger parkedWorkers = new AtomicInteger();
    /** Open {@link #section}s: workers do not park while this is positive. */
    private final AtomicInteger sections = new AtomicInteger();

    // the current job, written by the owner before the control word publishes it
    private RangeBody body;
    private int n;
    private volatile Throwable failure;
    /** The owner when it parks waiting for the last chunks (the worker finishing the last one unparks it). */
    private volatile Thread waiter;

    public static WorkerPool shared() {
        return SHARED;
    }

    public WorkerPool(int threads) {
        this.threads = Math.max(1, Math.min(threads, 0xffff / CHUNKS_PER_THREAD));
        this.workers = new Worker[this.threads - 1];
        for (int t = 1; t < this.threads; t++) {
            Worker w = new Worker(this, t);
            workers[t - 1] = w;
            w.start();
        }
    }

    public int threads() {
        return threads;
    }

    /**
     * Keeps the workers polling (never parked) until the returned handle is closed: for a burst of back-to-back ops
     * such as one decode step. Sections nest and may overlap across threads; closing one twice is harmless.
     */
    public Section section() {
        if (threads == 1) return Section.NONE;
        sections.incrementAndGet();
        wakeParked();
        return new Section(this);
    }

    /** An open {@link #section} (try-with-resources). */
    public static final class Section implements AutoCloseable {
        static final Section NONE = new Section(null);
        private WorkerPool pool;

        private Section(WorkerPool pool) {
            this.pool = pool;
        }

        @Override
        public void close() {
            WorkerPool p = pool;
            pool = null;
            if (p != null) p.sections.decrementAndGet();
        }
    }

    /** Runs body over [0, n) split across the pool; returns when all ranges are done. */
    public void parallelFor(int n, RangeBody body) {
        if (n <= 0) return;
        if (threads == 1) {
            body.run(0, n);
            return;
        }
        int chunks = Math.min(n, threads * CHUNKS_PER_THREAD);
        Thread me = Thread.currentThread();
        if (chunks == 1 || (me instanceof Worker) || !owner.compareAndSet(null, me)) {
            // a one-chunk job, a call from a worker (nested), or the pool busy with another caller's (or this
            // caller's enclosing) job: run the same chunks here
            for (int c = 0; c < chunks; c++) {
                int from = bound(n, chunks, c), to = bound(n, chunks, c + 1);
                if (from < to) body.run(from, to);
            }
            return;
        }
        try {
            this.body = body;
            this.n = n;
            this.failure = null;
            INT_VALUE.setVolatile(done, 0);
            long epoch = ((long) LONG_VALUE.getVolatile(ctl) >>> 32) + 1;
            LONG_VALUE.setVolatile(ctl, epoch << 32 | (long) chunks << 16);
            wakeParked();
            while (claimAndRun()) { }
            awaitDone(chunks, me);
            Throwable f = failure;
            if (f != null) {
                failure = null;
                if (f instanceof RuntimeException re) throw re;
                if (f instanceof Error e) throw e;
                throw new RuntimeException(f);
            }
        } finally {
            this.body = null;
            owner.set(null);
        }
    }

    private void wakeParked() {
        if (parkedWorkers.get() == 0) return;
        for (Worker w : workers) if (w.parked) LockSupport.unpark(w);
    }

    /** Claims one chunk of the published job and runs it; false when none is left. */
    private boolean claimAndRun() {
        long v;
        int c, chunks;
        do {
            v = (long) LONG_VALUE.getVolatile(ctl);
            c = (int) (v & 0xffff);
            chunks = (int) (v >>> 16 & 0xffff);
            if (c >= chunks) return false;
        } while (!LONG_VALUE.compareAndSet(ctl, v, v + 1));
        // the job cannot change until this chunk is counted done, so its fields are stable here
        int size = n;
        try {
            int from = bound(size, chunks, c), to = bound(size, chunks, c + 1);
            if (from < to) body.run(from, to);
        } catch (Throwable t) {
            if (failure == null) failure = t;
        } finally {
            if ((int) INT_VALUE.getAndAdd(done, 1) + 1 == chunks) {
                Thread w = waiter;
                if (w != null) LockSupport.unpark(w);
            }
        }
        return true;
    }

    /**
     * -Dcortado.pool.waitStats=true: the callers' waits for workers' chunks are counted ({@link #waitStats}); off by
     * default (two clock reads per op).
     */
    static final boolean WAIT_STATS = Boolean.getBoolean("cortado.pool.waitStats");
    /** Waits at least this long count as long ({@link WaitStats#longWaits}). */
    static final long LONG_WAIT_NS = 100_000L;
    private final java.util.concurrent.atomic.LongAdder waits = new java.util.concurrent.atomic.LongAdder(),
            longWaits = new java.util.concurrent.atomic.LongAdder(), waitNs = new java.util.concurrent.atomic.LongAdder(),
            longWaitNs = new java.util.concurrent.atomic.LongAdder();

    /**
     * The callers' waits so far for chunks that workers still held after the caller ran out of chunks (only with
     * -Dcortado.pool.waitStats=true; zeros otherwise): all of them, and those of at least 100 µs (typically a worker
     * descheduled by the OS while it holds a chunk), with their total time.
     */
    public record WaitStats(long waits, long waitNs, long longWaits, long longWaitNs) {
        public WaitStats minus(WaitStats o) {
            return new WaitStats(waits - o.waits, waitNs - o.waitNs, longWaits - o.longWaits, longWaitNs - o.longWaitNs);
        }
    }

    public WaitStats waitStats() {
        return new WaitStats(waits.sum(), waitNs.sum(), longWaits.sum(), longWaitNs.sum());
    }

    public static boolean waitStatsEnabled() {
        return WAIT_STATS;
    }

    /** The owner's wait for chunks that workers claimed: spin, then yield, then park until the last one finishes. */
    private void awaitDone(int chunks, Thread me) {
        if ((int) INT_VALUE.getVolatile(done) == chunks) return;
        long start = System.nanoTime();
        awaitDone(chunks, me, start);
        if (WAIT_STATS) {
            long ns = System.nanoTime() - start;
            waits.increment();
            waitNs.add(ns);
            if (ns >= LONG_WAIT_NS) {
                longWaits.increment();
                longWaitNs.add(ns);
            }
        }
    }

    private void awaitDone(int chunks, Thread me, long start) {
        for (int i = 0; (int) INT_VALUE.getVolatile(done) != chunks; i++) {
            if ((i & 63) != 0) {
                Thread.onSpinWait();
                continue;
            }
            long waited = System.nanoTime() - start;
            if (waited < CALLER_SPIN_NS) Thread.onSpinWait();
            else if (waited < CALLER_YIELD_NS) Thread.yield();
            else {
                waiter = me;
                if ((int) INT_VALUE.getVolatile(done) != chunks) LockSupport.parkNanos(1_000_000L);
                waiter = null;
            }
        }
    }

    private void loop(Worker self) {
        long lastWork = System.nanoTime();
        for (int i = 0; ; i++) {
            if (claimAndRun()) {
                while (claimAndRun()) { }
                lastWork = System.nanoTime();
                i = 0;
                continue;
            }
            Thread.onSpinWait();
            if ((i & 255) != 255 || sections.get() > 0 || System.nanoTime() - lastWork < SPIN_NS) continue;
            // idle for a while: block until a job (or a section) wakes this worker
            self.parked = true;
            parkedWorkers.incrementAndGet();
            while (!claimable() && sections.get() == 0) LockSupport.park(this);
            parkedWorkers.decrementAndGet();
            self.parked = false;
            lastWork = System.nanoTime();
        }
    }

    private boolean claimable() {
        long v = (long) LONG_VALUE.getVolatile(ctl);
        return (v & 0xffff) < (v >>> 16 & 0xffff);
    }
}
