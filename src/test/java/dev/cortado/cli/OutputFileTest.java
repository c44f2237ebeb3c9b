package dev.cortado.cli;

import static dev.cortado.cli.CliErrorsTest.assertOneLineError;
import static dev.cortado.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --output FILE} is all or nothing: complete on success; as it was after a failure or an interruption. */
class OutputFileTest {
    static final String EN_DE = "models/cortado-en-de";

    @TempDir Path tmp;

    private List<String> folder() throws Exception {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void successWritesTheWholeFileAndNoTemporaryFileRemains() throws Exception {
        Path in = Files.write(tmp.resolve("in.txt"), List.of("Utilities", "", "Fonts for the desktop"), StandardCharsets.UTF_8);
        Path out = Files.writeString(tmp.resolve("out.txt"), "previous\n");
        CliErrorsTest.Run r = run("translate", "--model", EN_DE, "--max-length", "8", "--batch-size", "1", "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        CliErrorsTest.Run direct = run("translate", "--model", EN_DE, "--max-length", "8", "Utilities", "", "Fonts for the desktop");
        assertEquals(direct.out().lines().toList(), Files.readAllLines(out));
        assertEquals(List.of("in.txt", "out.txt"), folder());
    }

    @Test
    void aFailedRunLeavesTheFileAsItWas() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 6; i++) lines.add("Utilities");
        lines.add("word ".repeat(400));  // too long with --no-truncate: fails in the 4th batch
        Path in = Files.write(tmp.resolve("in.txt"), lines, StandardCharsets.UTF_8);
        Path out = Files.writeString(tmp.resolve("out.txt"), "previous\n");
        assertOneLineError(run("translate", "--model", EN_DE, "--max-length", "4", "--batch-size", "2", "--no-truncate",
                "--input", in.toString(), "--output", out.toString()), "limit");
        assertEquals("previous\n", Files.readString(out));
        assertEquals(List.of("in.txt", "out.txt"), folder());
    }

    @Test
    void anInterruptedRunLeavesTheFileAsItWasAndSaysSo() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 4000; i++) lines.add("The program reads the configuration file number " + i + " and starts the server.");
        Path in = Files.write(tmp.resolve("in.txt"), lines, StandardCharsets.UTF_8);
        Path out = Files.writeString(tmp.resolve("out.txt"), "previous\n");
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dcortado.packCache=false", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "translate", "--model", EN_DE, "--batch-size", "1", "--input", in.toString(), "--output", out.toString());
        pb.redirectErrorStream(true);
        pb.redirectOutput(tmp.resolve("log").toFile());
        Process p = pb.start();
        long t0 = System.nanoTime();
        // wait until some results sit in the temporary file, then stop the run as Ctrl-C / kill would
        while (true) {
            assertTrue(p.isAlive(), () -> "finished or died early: " + read(tmp.resolve("log")));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(120), "no partial output after 120 s");
            Path partial = partial();
            if (partial != null && Files.size(partial) > 0) break;
            Thread.sleep(50);
        }
        p.destroy();  // SIGTERM: the shutdown hooks run, as for SIGINT
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String log = read(tmp.resolve("log"));
        assertEquals("previous\n", Files.readString(out), log);
        assertEquals(List.of("in.txt", "log", "out.txt"), folder(), "the temporary file is deleted");
        assertTrue(log.matches("(?s).*cortado: interrupted after \\d+ of 4000 inputs: .*out.txt was not written.*"), log);
    }

    private Path partial() throws Exception {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.filter(f -> f.getFileName().toString().startsWith(".out.txt.cortado-")).findFirst().orElse(null);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }
}
