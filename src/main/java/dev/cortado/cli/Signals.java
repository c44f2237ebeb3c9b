package dev.cortado.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * SIGTERM and SIGINT as a request to stop: {@code serve} shuts down gracefully and exits with code 0 instead of
 * the JVM's default (exit 143/130 at once, running only shutdown hooks). Uses {@code sun.misc.Signal}
 * (module jdk.unsupported); where it is missing, the signals keep their default effect.
 */
final class Signals {
    private Signals() {}

    /** Installs {@code onStop} for TERM and INT; the returned handle puts the previous handlers back. */
    static AutoCloseable onTerminate(Runnable onStop) {
        List<Runnable> restore = new ArrayList<>();
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal sig = new sun.misc.Signal(name);
                sun.misc.SignalHandler old = sun.misc.Signal.handle(sig, s -> onStop.run());
                restore.add(() -> sun.misc.Signal.handle(sig, old));
            } catch (IllegalArgumentException | LinkageError e) {
                // this platform or JVM has no such signal (or it is taken by the JVM): default behaviour
            }
        }
        return () -> restore.forEach(Runnable::run);
    }
}
