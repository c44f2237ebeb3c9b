package dev.cortado.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./cortado} launcher's stderr handling, run on a copy of the launcher with a stand-in JDK whose
 * {@code java} prints what the real JVM and CLI print: the incubator warning first, then a NUL byte, a progress bar
 * ending in {@code \r}, and an error just before exit. The launcher must drop only the warning, pass every other
 * byte through as it comes, and return only after stderr is complete (no text after the shell prompt).
 */
class LauncherTest {
    @TempDir Path tmp;

    static final String STDERR_AFTER_WARNING = "bin\0ary message\n\r[###   ] 1/2 \r[######] 2/2 \ncortado: error: last words\n";

    private Path launcherCopy() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("repo"));
        Files.copy(Path.of("cortado"), root.resolve("cortado"));
        Files.createDirectories(root.resolve("native"));
        Files.copy(Path.of("native/find-java.sh"), root.resolve("native/find-java.sh"));
        Files.createDirectories(root.resolve("target/lib"));
        Files.writeString(root.resolve("target/cortado.jar"), "stand-in");  // newer than everything: no build
        Path jdk = Files.createDirectories(tmp.resolve("jdk/bin"));
        Files.writeString(jdk.getParent().resolve("release"), "JAVA_VERSION=\"25.0.1\"\n");
        String java = """
                #!/usr/bin/env bash
                for a in "$@"; do
                  case "$a" in -version|--version|-XshowSettings:properties)
                    echo '    java.specification.version = 25' >&2; echo 'openjdk version "25.0.1" 2025-10-21' >&2; exit 0;;
                  esac
                done
                echo 'WARNING: Using incubator modules: jdk.incubator.vector' >&2
                printf 'out line\\n'
                printf 'bin\\0ary message\\n' >&2
                printf '\\r[###   ] 1/2 ' >&2
                sleep 2
                printf '\\r[######] 2/2 \\n' >&2
                printf 'cortado: error: last words\\n' >&2
                exit 2
                """;
        for (String tool : new String[] {"java", "javac"}) {
            Path f = jdk.resolve(tool);
            Files.writeString(f, java);
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return root;
    }

    @Test
    void stderrPassesThroughUnchangedAndInTime() throws Exception {
        Path root = launcherCopy();
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "\"$0\" translate x; echo \"exit $?\"; echo PROMPT >&2",
                root.resolve("cortado").toString());
        pb.environment().put("JAVA_HOME", tmp.resolve("jdk").toString());
        Process p = pb.start();
        InputStream err = p.getErrorStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        long t0 = System.nanoTime();
        boolean progressSeenEarly = false;
        while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20)) {
            int n = err.read(buf);
            if (n < 0) break;
            got.write(buf, 0, n);
            String s = got.toString(StandardCharsets.ISO_8859_1);
            // the progress bar has no newline yet: it must show while java still sleeps
            if (s.contains("1/2 ") && !s.contains("2/2")) progressSeenEarly = true;
        }
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals("out line\nexit 2\n", stdout, "stdout untouched, and java's exit code is the launcher's");
        assertArrayEquals((STDERR_AFTER_WARNING + "PROMPT\n").getBytes(StandardCharsets.ISO_8859_1), got.toByteArray(),
                "stderr: only the incubator warning dropped, NUL kept, error before the prompt; got " + got.toString(StandardCharsets.ISO_8859_1));
        assertTrue(progressSeenEarly, "a progress bar ending in \\r reaches the terminal before the next newline");
    }
}
