package dev.cortado;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the shared material folder: {@code $CORTADO_SHARED}, else {@code ../shared} beside the project. */
public final class SharedPaths {
    private SharedPaths() {}

    /** The shared folder, or null when it is absent. */
    public static Path root() {
        String env = System.getenv("CORTADO_SHARED");
        if (env != null && !env.isBlank()) {
            Path p = Path.of(env);
            return Files.isDirectory(p) ? p : null;
        }
        for (Path base = Path.of("").toAbsolutePath(); base != null; base = base.getParent()) {
            Path p = base.resolveSibling("shared");
            if (Files.isDirectory(p.resolve("models"))) return p;
        }
        return null;
    }

    /** {@code shared/models/<name>}, or null when shared is absent. */
    public static Path model(String name) {
        Path r = root();
        return r == null ? null : r.resolve("models").resolve(name);
    }
}
