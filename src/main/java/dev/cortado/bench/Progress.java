package dev.cortado.bench;

import java.io.PrintStream;

/** A one-line progress bar on stderr: {@code [#####.....] 12/40 cortado b=4 run 2}. */
public final class Progress {
    private final PrintStream err;
    private final int total;
    private int done;
    private final long start = System.nanoTime();
    private final boolean enabled;

    public Progress(int total) {
        this(total, System.err, !Boolean.getBoolean("cortado.bench.quiet"));
    }

    Progress(int total, PrintStream err, boolean enabled) {
        this.total = Math.max(1, total);
        this.err = err;
        this.enabled = enabled;
    }

    public void step(String label) {
        done = Math.min(total, done + 1);
        show(label);
    }

    public void show(String label) {
        if (!enabled) return;
        int width = 30, filled = done * width / total;
        String bar = "#".repeat(filled) + ".".repeat(width - filled);
        err.printf("\r[%s] %d/%d %5.0fs %-48.48s", bar, done, total, (System.nanoTime() - start) / 1e9, label);
        err.flush();
    }

    public void finish() {
        if (enabled) {
            err.print("\r" + " ".repeat(100) + "\r");
            err.flush();
        }
    }

    /** A line of log text that does not garble the bar. */
    public void log(String line) {
        if (enabled) err.print("\r" + " ".repeat(100) + "\r");
        err.println(line);
        show("");
    }
}
