package dev.cortado.testing;

import dev.cortado.SharedPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Test access to ../shared: skips the calling test with a clear message when the folder is absent. */
public final class Shared {
    private Shared() {}

    public static Path require(String relative) {
        Path root = SharedPaths.root();
        Assumptions.assumeTrue(root != null,
                "shared folder absent (set CORTADO_SHARED or place ../shared beside the project): skipping");
        Path p = root.resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), "shared file absent: " + p + ": skipping");
        return p;
    }
}
