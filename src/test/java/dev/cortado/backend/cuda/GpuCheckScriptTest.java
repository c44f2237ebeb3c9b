package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * native/gpu-check.sh (the one-call GPU check) fails fast and says so in one line when there is no NVIDIA driver,
 * and rejects unknown arguments; its full dry run (--dry-run, needs the device bundle) is run by hand.
 */
class GpuCheckScriptTest {
    private static final Path ROOT = Path.of(System.getProperty("user.dir"));

    private static String[] run(Path out, String... args) throws Exception {
        String[] cmd = new String[args.length + 2];
        cmd[0] = "bash";
        cmd[1] = "native/gpu-check.sh";
        System.arraycopy(args, 0, cmd, 2, args.length);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().put("OUT", out.toString());
        pb.environment().put("PATH", "/usr/bin:/bin"); // no nvidia-smi here, as on CI
        Process p = pb.start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new String[] {Integer.toString(p.exitValue()), text};
    }

    @Test
    void withoutADriverItStopsAtOnceWithOneLine(@TempDir Path out) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(!Files.isExecutable(Path.of("/usr/bin/nvidia-smi")), "a driver is here");
        String[] r = run(out);
        assertEquals("3", r[0], r[1]);
        assertEquals(1, r[1].lines().count(), r[1]);
        assertTrue(r[1].startsWith("gpu-check: no NVIDIA driver: nvidia-smi failed"), r[1]);
        assertEquals(r[1].strip(), Files.readString(out.resolve("summary.txt")).strip());
    }

    @Test
    void unknownArgumentsAreRejected(@TempDir Path out) throws Exception {
        String[] r = run(out, "--gpu-please");
        assertEquals("2", r[0], r[1]);
        assertEquals("gpu-check: unknown argument --gpu-please (use --dry-run, --full)", r[1].strip());
    }
}
