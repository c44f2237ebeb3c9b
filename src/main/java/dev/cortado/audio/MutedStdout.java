package dev.cortado.audio;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * Keeps a third-party call from writing to {@code System.out} (which carries the CLI's output) without losing other
 * threads' output. jFLAC 1.5.2 prints a debug line with {@code System.out.println} when it meets an escape-coded
 * residual partition ({@code EntropyPartitionedRice.readResidual}; rare encoders, or corrupt input), and has no
 * logging hook; the only way to silence it is to redirect {@code System.out}. So, under one lock around the call,
 * {@code System.out} is swapped for a stream that drops the writes of the calling thread only (every other thread's
 * output passes through to the original stream, in order), and put back afterwards, unless someone else replaced
 * it meanwhile. Calls are serialized by the lock (a FLAC decode takes milliseconds).
 */
final class MutedStdout {
    private MutedStdout() {}

    private static final Object LOCK = new Object();

    interface Call<T, E extends Exception> {
        T run() throws E;
    }

    static <T, E extends Exception> T run(Call<T, E> call) throws E {
        synchronized (LOCK) {
            PrintStream original = System.out;
            Thread muted = Thread.currentThread();
            PrintStream filter = new PrintStream(new OutputStream() {
                @Override public void write(int b) throws IOException {
                    if (Thread.currentThread() != muted) original.write(b);
                }

                @Override public void write(byte[] b, int off, int len) {
                    if (Thread.currentThread() != muted) original.write(b, off, len);
                }

                @Override public void flush() {
                    if (Thread.currentThread() != muted) original.flush();
                }
            }, true, original.charset());
            System.setOut(filter);
            try {
                return call.run();
            } finally {
                if (System.out == filter) System.setOut(original);
            }
        }
    }
}
