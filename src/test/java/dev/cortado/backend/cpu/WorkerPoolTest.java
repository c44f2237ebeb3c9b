package dev.cortado.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** {@link WorkerPool}: every index exactly once, the same chunk boundaries on every path, exceptions, nesting, callers. */
class WorkerPoolTest {
    /** Runs [0, n) and checks each index was visited exactly once; returns the ranges the body saw, sorted. */
    private static List<String> coverOnce(WorkerPool pool, int n) {
        AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(n, 1));
        ConcurrentLinkedQueue<int[]> ranges = new ConcurrentLinkedQueue<>();
        pool.parallelFor(n, (from, to) -> {
            ranges.add(new int[] {from, to});
            for (int i = from; i < to; i++) seen.incrementAndGet(i);
        });
        for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "index " + i + " of " + n);
        return ranges.stream().sorted((a, b) -> Integer.compare(a[0], b[0])).map(r -> r[0] + ".." + r[1]).toList();
    }

    /** The chunks parallelFor promises: min(n, 4·threads) ranges at n·c/chunks. */
    private static List<String> expectedChunks(int threads, int n) {
        int chunks = Math.min(n, threads * 4);
        List<String> out = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks), to = (int) ((long) n * (c + 1) / chunks);
            if (from < to) out.add(from + ".." + to);
        }
        return out;
    }

    @Test
    void coversEveryIndexOnceWithFixedChunks() {
        for (int threads : new int[] {1, 2, 3, 5}) {
            WorkerPool pool = new WorkerPool(threads);
            for (int n : new int[] {0, 1, 2, 3, 4, 7, 19, 20, 21, 100, 1000, 100_003}) {
                for (int rep = 0; rep < 20; rep++) {
                    List<String> got = coverOnce(pool, n);
                    if (threads == 1) assertEquals(n == 0 ? List.of() : List.of("0.." + n), got);
                    else assertEquals(expectedChunks(threads, n), got, threads + " threads, n " + n);
                }
            }
        }
    }

    @Test
    void manyBackToBackCallsStayExact() {
        WorkerPool pool = new WorkerPool(3);
        AtomicInteger sum = new AtomicInteger();
        for (int call = 0; call < 20_000; call++) {
            int n = 1 + call % 37;
            sum.set(0);
            pool.parallelFor(n, (from, to) -> sum.addAndGet(to - from));
            assertEquals(n, sum.get(), "call " + call);
        }
    }

    @Test
    void exceptionReachesTheCallerAfterAllChunksAndThePoolStaysUsable() {
        WorkerPool pool = new WorkerPool(3);
        IllegalStateException boom = new IllegalStateException("boom");
        for (int rep = 0; rep < 50; rep++) {
            AtomicInteger ran = new AtomicInteger();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.parallelFor(12, (from, to) -> {
                ran.incrementAndGet();
                if (from == 6) throw boom;
            }));
            assertSame(boom, e);
            assertEquals(12, ran.get(), "every chunk still runs");
            assertEquals(expectedChunks(3, 50), coverOnce(pool, 50));
        }
        AssertionError err = new AssertionError("x");
        assertSame(err, assertThrows(AssertionError.class, () -> pool.parallelFor(5, (f, t) -> { throw err; })));
        Exception checked = new Exception("checked");
        RuntimeException wrapped = assertThrows(RuntimeException.class, () -> pool.parallelFor(5, (f, t) -> sneaky(checked)));
        assertSame(checked, wrapped.getCause());
        assertEquals(expectedChunks(3, 9), coverOnce(pool, 9));
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void sneaky(Throwable t) throws T {
        throw (T) t;
    }

    @Test
    void nestedCallsRunInline() {
        WorkerPool pool = new WorkerPool(3);
        int outer = 12, inner = 40;
        AtomicIntegerArray seen = new AtomicIntegerArray(outer * inner);
        pool.parallelFor(outer, (o0, o1) -> {
            for (int o = o0; o < o1; o++) {
                int base = o * inner;
                pool.parallelFor(inner, (i0, i1) -> {
                    for (int i = i0; i < i1; i++) seen.incrementAndGet(base + i);
                });
            }
        });
        for (int i = 0; i < outer * inner; i++) assertEquals(1, seen.get(i), "index " + i);
    }

    @Test
    void concurrentCallersEachGetTheirOwnWork() throws Exception {
        WorkerPool pool = new WorkerPool(3);
        int callers = 4, calls = 3_000;
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> bad = new AtomicReference<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < callers; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    go.await();
                    for (int c = 0; c < calls; c++) {
                        int n = 1 + (c * 7 + id) % 53;
                        long[] acc = new long[n];
                        pool.parallelFor(n, (from, to) -> {
                            for (int i = from; i < to; i++) acc[i] += i + 1L + id;
                        });
                        for (int i = 0; i < n; i++) if (acc[i] != i + 1L + id) throw new AssertionError("caller " + id + " call " + c + " index " + i);
                    }
                } catch (Throwable e) {
                    bad.compareAndSet(null, e);
                }
            });
            ts.add(th);
            th.start();
        }
        go.countDown();
        for (Thread th : ts) th.join(120_000);
        if (bad.get() != null) throw new AssertionError(bad.get());
        for (Thread th : ts) assertTrue(!th.isAlive(), "a caller hung");
    }

    @Test
    void sectionsKeepResultsAndCloseCleanly() throws Exception {
        WorkerPool pool = new WorkerPool(2);
        try (WorkerPool.Section s = pool.section(); WorkerPool.Section nested = pool.section()) {
            for (int rep = 0; rep < 100; rep++) assertEquals(expectedChunks(2, 33), coverOnce(pool, 33));
            nested.close(); // closing twice is harmless
        }
        Thread.sleep((WorkerPool.SPIN_NS / 1_000_000L) * 3 + 5); // workers park
        assertEquals(expectedChunks(2, 33), coverOnce(pool, 33)); // and wake for the next job
        try (WorkerPool.Section s = new WorkerPool(1).section()) {
            assertEquals(List.of("0..5"), coverOnce(new WorkerPool(1), 5));
        }
    }
}
