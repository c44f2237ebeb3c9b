package dev.cortado.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.SharedPaths;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A project that depends on {@code dev.cortado:cortado} only (issue 21): its resolved runtime class path holds none of
 * the optional or tool jars, and the README's Java example (this module's {@code Example.java}, the README block
 * verbatim) runs with plain {@code java -cp} both without JVM flags (scalar CPU code, one warning) and with
 * {@code --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED} (no warning), printing the same text.
 */
class ConsumerTest {
    private static final String WARNING = "cortado: WARNING: the Java Vector API is not enabled";
    /** Jars a library consumer must not get: CLI, charts (and what XChart pulls), test, Spark, server, ORT, model jars. */
    private static final List<String> FORBIDDEN = List.of("picocli", "xchart", "pdfbox", "fontbox", "vectorgraphics2d",
            "animated-gif", "junit", "opentest4j", "apiguardian", "spark", "jetty", "netty", "undertow", "onnxruntime",
            "langchain4j", "okhttp", "openai");

    private static List<String> runtimeClasspath() throws Exception {
        String cp = Files.readString(Path.of(System.getProperty("consumer.classpath"))).strip();
        return Arrays.stream(cp.split(File.pathSeparator)).filter(s -> !s.isBlank()).toList();
    }

    @Test
    void runtimeClasspathHasNoToolOrOptionalJars() throws Exception {
        List<String> cp = runtimeClasspath();
        assertTrue(cp.stream().anyMatch(e -> Files.isRegularFile(Path.of(e, "dev/cortado/runtime/Cortado.class"))
                || Path.of(e).getFileName().toString().matches("cortado(-[0-9].*)?\\.jar")), "the library itself: " + cp);
        for (String entry : cp) {
            String name = Path.of(entry).getFileName().toString().toLowerCase(Locale.ROOT);
            for (String bad : FORBIDDEN) assertFalse(name.contains(bad), bad + " on a consumer's runtime class path: " + entry);
        }
        // one Jackson version (major.minor; jackson-annotations is versioned 2.N): Jinjava alone would bring 2.14 modules
        java.util.Set<String> jackson = new java.util.TreeSet<>();
        for (String entry : cp) {
            var m = java.util.regex.Pattern.compile("jackson-[a-z0-9-]+?-(\\d+\\.\\d+)(\\.\\d+)?\\.jar").matcher(Path.of(entry).getFileName().toString());
            if (m.matches()) jackson.add(m.group(1));
        }
        assertEquals(1, jackson.size(), "Jackson versions on the class path: " + jackson + " " + cp);
        long bytes = 0;
        for (String e : cp) if (Files.isRegularFile(Path.of(e))) bytes += Files.size(Path.of(e));
        System.out.printf("consumer runtime class path: %d entries, %.1f MB of jars%n", cp.size(), bytes / 1e6);
    }

    @Test
    void readmeJavaExampleIsThisModulesExample() throws Exception {
        String readme = Files.readString(Path.of(System.getProperty("consumer.readme")));
        String marker = "```java\n";
        int at = readme.indexOf(marker);
        assertTrue(at >= 0, "README has no ```java block");
        String block = readme.substring(at + marker.length(), readme.indexOf("```", at + marker.length()));
        String example = Files.readString(Path.of("src/main/java/Example.java"));
        assertEquals(example.strip(), block.strip(), "README's first Java block must be examples/consumer/src/main/java/Example.java verbatim");
    }

    private record Run(int exit, String out, String err) {}

    private static Run java(List<String> flags, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        cmd.add("-cp");
        cmd.add(System.getProperty("consumer.classes") + File.pathSeparator + String.join(File.pathSeparator, runtimeClasspath()));
        cmd.add("Example");
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(Files.createTempDirectory("consumer-cwd").toFile());
        pb.environment().remove("JDK_JAVA_OPTIONS");
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("CORTADO_HOME");
        Process p = pb.start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "example did not finish");
        return new Run(p.exitValue(), out, err.get());
    }

    @Test
    void exampleRunsWithPlainJavaWithoutAndWithFlagsAndPrintsTheSame() throws Exception {
        Path stories = SharedPaths.model("stories260K");
        List<String> args = stories != null && Files.isDirectory(stories) ? List.of(stories.toString()) : List.of();
        if (args.isEmpty()) System.out.println("stories260K absent (../shared): generation part skipped, translation only");
        // from a temporary working directory: the default model is found beside the library, not in the cwd
        Run plain = java(List.of(), args);
        assertEquals(0, plain.exit(), plain.err());
        assertEquals(1, plain.err().lines().filter(l -> l.startsWith(WARNING)).count(), "one fallback warning:\n" + plain.err());
        assertFalse(plain.err().contains("Exception") || plain.err().contains("\tat "), plain.err());

        Run flagged = java(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"), args);
        assertEquals(0, flagged.exit(), flagged.err());
        assertFalse(flagged.err().contains(WARNING), flagged.err());
        assertFalse(flagged.err().contains("Exception"), flagged.err());

        assertEquals(flagged.out(), plain.out(), "same text with and without the Vector API");
        List<String> lines = plain.out().lines().toList();
        assertTrue(lines.size() >= (args.isEmpty() ? 1 : 2), plain.out());
        assertFalse(lines.getFirst().isBlank(), "a translation");
        System.out.println("example output:\n" + plain.out() + "stderr without flags:\n" + plain.err());
    }
}
