package dev.cortado.spark;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;

/**
 * Feeds a partition's rows to the executor's engine continuously: up to {@code window} rows are submitted at once
 * (each a future; the engine batches them with every other task's rows in this JVM) and one more is submitted each
 * time one is handed on, so the engine never waits for Spark to pull a row. {@code ordered}: results come in row
 * order (the Dataset API: a row keeps its place); otherwise as they finish (batch lines, sorted later).
 * A failed row becomes {@code finish}'s value for its error: a bad row never fails the task. When the task ends early (killed,
 * failed downstream) the rows still in flight are cancelled, which frees their KV blocks.
 */
final class Pipelined<I, R, O> implements Iterator<O> {
    /** A row's output from its result, or from the error it failed with ({@code result} is then null). */
    interface Finish<I, R, O> {
        O apply(I row, R result, Throwable error);
    }

    private final Iterator<I> in;
    private final int window;
    private final Function<I, CompletableFuture<R>> submit;
    private final Finish<I, R, O> finish;
    private final boolean ordered;
    private final ArrayDeque<CompletableFuture<O>> inOrder = new ArrayDeque<>();
    private final LinkedBlockingQueue<O> finished = new LinkedBlockingQueue<>();
    /** The engine's futures not yet finished (cancelling them frees their KV blocks). */
    private final Set<CompletableFuture<R>> flying = ConcurrentHashMap.newKeySet();
    private int pending;

    Pipelined(Iterator<I> in, int window, boolean ordered, Function<I, CompletableFuture<R>> submit, Finish<I, R, O> finish) {
        this.in = in;
        this.window = Math.max(1, window);
        this.ordered = ordered;
        this.submit = submit;
        this.finish = finish;
        org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
        if (task != null) task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> cancel());
    }

    private void fill() {
        while (pending < window && in.hasNext()) {
            I row = in.next();
            CompletableFuture<O> f;
            try {
                CompletableFuture<R> raw = submit.apply(row);
                flying.add(raw);
                raw.whenComplete((r, e) -> flying.remove(raw));
                f = raw.handle((r, e) -> finish.apply(row, e == null ? r : null, e));
            } catch (RuntimeException e) {
                f = CompletableFuture.completedFuture(finish.apply(row, null, e));
            }
            pending++;
            if (ordered) inOrder.add(f);
            else f.thenAccept(finished::add);
        }
    }

    @Override
    public boolean hasNext() {
        fill();
        return pending > 0;
    }

    @Override
    public O next() {
        if (!hasNext()) throw new NoSuchElementException();
        O o;
        try {
            o = ordered ? inOrder.poll().get() : finished.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancel();
            throw new IllegalStateException("task interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause()); // not reached: failures were turned into values
        }
        pending--;
        fill();
        return o;
    }

    /** Cancels the rows still in flight (the task is over). */
    void cancel() {
        for (CompletableFuture<R> f : flying) f.cancel(true);
    }
}
