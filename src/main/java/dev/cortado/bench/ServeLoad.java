package dev.cortado.bench;

import dev.cortado.CortadoException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntSupplier;

/**
 * The load side of {@code bench serve}: a seeded request list (mixed prompt and output lengths), and two load
 * generators that drive any {@link Target} with it: open loop (seeded Poisson arrivals at a fixed rate; latency
 * counts from the scheduled arrival, so a late dispatcher cannot hide queueing) and closed loop (N streams, each
 * sending its next request when the previous one has finished). Every request records when it arrived and when
 * each of its tokens was streamed.
 */
final class ServeLoad {
    private ServeLoad() {}

    /** One request: prompt token ids and exactly how many tokens to generate (greedy, no EOS). */
    record Req(int index, int[] prompt, int maxNew) {}

    /** A system under load: takes a request without blocking and reports its tokens to the trace. */
    interface Target {
        void submit(Trace t);

        /** Every request of this run has been submitted (a static batcher may start a partial batch). */
        default void noMoreArrivals() {}
    }

    /** Uniform prompt lengths in [pMin, pMax], output lengths in [gMin, gMax], random ids below {@code vocab}. */
    static List<Req> requests(int n, int vocab, int pMin, int pMax, int gMin, int gMax, long seed) {
        Random r = new Random(seed);
        List<Req> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int[] p = new int[pMin + r.nextInt(pMax - pMin + 1)];
            for (int j = 0; j < p.length; j++) p[j] = r.nextInt(vocab);
            out.add(new Req(i, p, gMin + r.nextInt(gMax - gMin + 1)));
        }
        return out;
    }

    /** Arrival offsets (ns from the start) of a Poisson process at {@code rate} requests/s: exponential gaps. */
    static long[] poissonArrivals(int n, double rate, long seed) {
        if (!(rate > 0)) throw new CortadoException("request rate must be > 0, got " + rate);
        Random r = new Random(seed);
        long[] at = new long[n];
        double t = 0;
        for (int i = 0; i < n; i++) {
            at[i] = (long) (t * 1e9);
            t += -Math.log(1 - r.nextDouble()) / rate;
        }
        return at;
    }

    /** Timestamps and tokens of one request. Tokens come from one thread at a time; read after {@link #finished}. */
    static final class Trace {
        final Req req;
        volatile long arrival;
        final long[] tokenAt;
        final int[] ids;
        int count;
        final CompletableFuture<Trace> finished = new CompletableFuture<>();
        volatile Throwable error;

        Trace(Req req) {
            this.req = req;
            this.tokenAt = new long[req.maxNew()];
            this.ids = new int[req.maxNew()];
        }

        /** A streamed token; tokens past the request's own length (a static batch running on) are not its own. */
        void token(int id) {
            if (count >= ids.length) return;
            tokenAt[count] = System.nanoTime();
            ids[count++] = id;
            if (count == ids.length) finished.complete(this);
        }

        /** The system is done with this request (normally already complete after its last token). */
        void complete() {
            finished.complete(this);
        }

        void fail(Throwable t) {
            error = t;
            finished.complete(this);
        }

        int[] tokens() {
            return Arrays.copyOf(ids, count);
        }

        long last() {
            return count == 0 ? arrival : tokenAt[count - 1];
        }
    }

    /** One run's traces and its span from the first arrival to the last token. */
    record Outcome(List<Trace> traces, long startNs, long endNs) {
        double seconds() {
            return (endNs - startNs) / 1e9;
        }
    }

    /** Open loop: request i arrives at start + offsets[i]; waits until every request has finished. */
    static Outcome open(List<Req> reqs, long[] offsets, Target target, Progress progress, String label) {
        List<Trace> traces = reqs.stream().map(Trace::new).toList();
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
        Thread dispatcher = Thread.ofPlatform().name("bench-serve-arrivals").start(() -> {
            for (int i = 0; i < traces.size(); i++) {
                long at = start + offsets[i];
                for (long left; (left = at - System.nanoTime()) > 0; ) LockSupport.parkNanos(left);
                Trace t = traces.get(i);
                t.arrival = at;
                target.submit(t);
            }
            target.noMoreArrivals();
        });
        await(traces, progress, label);
        join(dispatcher);
        return outcome(traces, start);
    }

    /** Closed loop: {@code streams} clients, each submitting the next unsent request when its previous one finished. */
    static Outcome closed(List<Req> reqs, int streams, Target target, Progress progress, String label) {
        List<Trace> traces = reqs.stream().map(Trace::new).toList();
        AtomicInteger next = new AtomicInteger(), submitted = new AtomicInteger();
        long start = System.nanoTime();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < streams; c++) {
            clients.add(Thread.ofVirtual().name("bench-serve-client-" + c).start(() -> {
                for (int i; (i = next.getAndIncrement()) < traces.size(); ) {
                    Trace t = traces.get(i);
                    t.arrival = System.nanoTime();
                    target.submit(t);
                    if (submitted.incrementAndGet() == traces.size()) target.noMoreArrivals();
                    t.finished.join();
                }
            }));
        }
        await(traces, progress, label);
        clients.forEach(ServeLoad::join);
        return outcome(traces, start);
    }

    private static Outcome outcome(List<Trace> traces, long start) {
        long end = start;
        for (Trace t : traces) end = Math.max(end, t.last());
        return new Outcome(traces, start, end);
    }

    /** Waits for every trace, showing done/total on the progress bar. */
    private static void await(List<Trace> traces, Progress progress, String label) {
        IntSupplier done = () -> (int) traces.stream().filter(t -> t.finished.isDone()).count();
        while (true) {
            int d = done.getAsInt();
            progress.show(label + " " + d + "/" + traces.size());
            if (d == traces.size()) return;
            try {
                CompletableFuture.allOf(traces.stream().map(t -> t.finished).toArray(CompletableFuture[]::new))
                        .get(250, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                // show progress and wait again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CortadoException("bench serve interrupted");
            } catch (java.util.concurrent.ExecutionException e) {
                throw new CortadoException("bench serve: " + e.getCause(), e.getCause());
            }
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CortadoException("bench serve interrupted");
        }
    }
}
