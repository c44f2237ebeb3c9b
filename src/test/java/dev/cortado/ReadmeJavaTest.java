package dev.cortado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README's commands must work on a stock machine whose PATH java is older than 25 and JAVA_HOME is unset
 * (issue 18): {@code ./mvnw} finds JDK 25 itself through native/find-java.sh.
 */
class ReadmeJavaTest {
    private static final Path ROOT = Path.of(System.getProperty("user.dir"));

    /** A JDK older than 25 on this machine (Debian's openjdk-17 on CI), or null. */
    private static Path oldJdk() throws IOException {
        Path jvm = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvm)) return null;
        try (Stream<Path> dirs = Files.list(jvm)) {
            return dirs.filter(d -> Files.isExecutable(d.resolve("bin/javac")))
                    .filter(d -> d.getFileName().toString().matches(".*-(1[1-9]|2[0-4])[-.].*"))
                    .findFirst().orElse(null);
        }
    }

    private static String run(Path oldJdk, String... extraEnv) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("./mvnw", "-v").directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().remove("JAVA_HOME");
        pb.environment().put("PATH", oldJdk.resolve("bin") + ":/usr/bin:/bin");
        for (int i = 0; i < extraEnv.length; i += 2) pb.environment().put(extraEnv[i], extraEnv[i + 1]);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "mvnw -v did not finish");
        return p.exitValue() + "\n" + out;
    }

    @Test
    void mavenWrapperFindsJdk25WhenPathJavaIsOlder() throws Exception {
        Path old = oldJdk();
        assumeTrue(old != null, "no JDK older than 25 under /usr/lib/jvm to play the stock machine's java");
        String out = run(old);
        assertTrue(out.startsWith("0\n"), out);
        String version = out.lines().filter(l -> l.startsWith("Java version: ")).findFirst().orElseThrow();
        int major = Integer.parseInt(version.substring("Java version: ".length()).split("[.,]")[0]);
        assertTrue(major >= 25, version);
    }

    @Test
    void mavenWrapperNamesTheFixWhenNoJdk25Exists() throws Exception {
        Path old = oldJdk();
        assumeTrue(old != null, "no JDK older than 25 under /usr/lib/jvm to play the stock machine's java");
        String out = run(old, "CORTADO_JDK_DIRS", "/nonexistent-jdk-dir");
        List<String> lines = out.lines().toList();
        assertEquals("1", lines.getFirst());
        assertEquals(List.of("cortado: no JDK >= 25 found (looked at JAVA_HOME, /nonexistent-jdk-dir/*, PATH); install JDK 25 and set JAVA_HOME"),
                lines.subList(1, lines.size()));
    }
}
