package dev.cortado.cli;

import dev.cortado.CortadoException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * {@code --output FILE} written all or nothing: results go to a hidden temporary file in FILE's folder, which is
 * renamed to FILE (atomically) when every input is done. A failed run, or one interrupted by Ctrl-C / SIGTERM (a
 * shutdown hook), deletes the temporary file and says so on stderr, so FILE is either complete or as it was before.
 * A FILE that exists and is not a regular file (a FIFO, /dev/stdout) is written directly.
 */
final class AtomicOutput implements AutoCloseable {
    private final Path target;
    private final Path tmp;
    private final PrintWriter writer;
    private final PrintWriter err;
    private final Thread hook;
    private boolean done;
    private int linesDone;
    private int linesTotal;

    private AtomicOutput(Path target, Path tmp, PrintWriter writer, PrintWriter err) {
        this.target = target;
        this.tmp = tmp;
        this.writer = writer;
        this.err = err;
        this.hook = tmp == null ? null : new Thread(this::interrupted, "cortado-output-cleanup");
        if (hook != null) Runtime.getRuntime().addShutdownHook(hook);
    }

    static AtomicOutput open(Path target, PrintWriter err) {
        Path abs = target.toAbsolutePath();
        try {
            if (Files.exists(abs) && !Files.isRegularFile(abs)) {
                if (Files.isDirectory(abs)) throw new CortadoException("--output " + target + " is a folder; name a file");
                return new AtomicOutput(target, null, new PrintWriter(Files.newBufferedWriter(abs, StandardCharsets.UTF_8)), err);
            }
            if (abs.getParent() == null || !Files.isDirectory(abs.getParent())) {
                throw new CortadoException("--output " + target + ": folder " + abs.getParent() + " does not exist");
            }
            Path tmp = abs.resolveSibling("." + abs.getFileName() + ".cortado-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".tmp");
            PrintWriter w = new PrintWriter(Files.newBufferedWriter(tmp, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE));
            return new AtomicOutput(target, tmp, w, err);
        } catch (IOException e) {
            throw new CortadoException("cannot write --output " + target + ": " + e.getMessage(), e);
        }
    }

    PrintWriter writer() {
        return writer;
    }

    /** For the interruption message: how many of the inputs were done. */
    synchronized void progress(int done, int total) {
        linesDone = done;
        linesTotal = total;
    }

    /** Every input is done: FILE becomes the complete output. */
    synchronized void commit() {
        if (done) return;
        writer.close();
        if (writer.checkError()) throw new CortadoException("cannot write --output " + target + " (disk full?); it was left as it was");
        if (tmp != null) {
            try {
                Files.move(tmp, target.toAbsolutePath(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new CortadoException("cannot rename the finished output to " + target + ": " + e.getMessage(), e);
            }
        }
        done = true;
        removeHook();
    }

    /** Not committed: delete the temporary file, leaving FILE as it was. */
    @Override
    public synchronized void close() {
        if (done) return;
        done = true;
        writer.close();
        deleteTmp();
        removeHook();
    }

    private synchronized void interrupted() {
        if (done) return;
        done = true;
        deleteTmp();
        err.println();
        err.println("cortado: interrupted after " + linesDone + " of " + linesTotal + " inputs: " + target
                + (tmp == null ? " is incomplete" : " was not written (it is written only when every input is done)"));
        err.flush();
    }

    private void deleteTmp() {
        if (tmp == null) return;
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // best effort: a leftover hidden .tmp file names the process that wrote it
        }
    }

    private void removeHook() {
        if (hook == null) return;
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting; the hook sees done = true and does nothing
        }
    }
}
