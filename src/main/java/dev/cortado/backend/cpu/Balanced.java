package dev.cortado.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Dynamic work sharing at a fine grain on top of {@link WorkerPool}: one body per pool thread, each claiming
 * {@code grain} units at a time from a shared counter until none is left. The pool's own split (a few fixed chunks
 * per thread) leaves one thread idle for up to a whole chunk at the end of every op (on 2 cores, an encoder GEMM of
 * 72 panel tasks ran as 8 chunks of 9); here the threads finish within one grain of each other, and a thread that
 * starts late (not yet scheduled) simply claims fewer units. Per-thread setup (scratch arrays) runs once per body.
 */
final class Balanced {
    private Balanced() {}

    /** A body run once per thread: {@code while (c.next()) for (int i = c.from(); i < c.to(); i++) …}. */
    interface Body {
        void run(Claims c);
    }

    /** One thread's view of the shared counter. */
    static final class Claims {
        private final AtomicInteger counter;
        private final int n, grain;
        private int from, to;

        Claims(AtomicInteger counter, int n, int grain) {
            this.counter = counter;
            this.n = n;
            this.grain = grain;
        }

        /** Claims the next units [from, to); false when none is left. */
        boolean next() {
            int s = counter.getAndAdd(grain);
            if (s >= n) return false;
            from = s;
            to = Math.min(n, s + grain);
            return true;
        }

        int from() {
            return from;
        }

        int to() {
            return to;
        }
    }

    /** Runs body over units [0, n), {@code grain} (≥ 1) units per claim, on every thread of the pool. */
    static void run(WorkerPool pool, int n, int grain, Body body) {
        if (n <= 0) return;
        AtomicInteger counter = new AtomicInteger();
        int threads = Math.min(pool.threads(), (n + grain - 1) / grain);
        if (threads <= 1) {
            body.run(new Claims(counter, n, grain));
            return;
        }
        pool.parallelFor(threads, (t0, t1) -> body.run(new Claims(counter, n, grain)));
    }
}
