package dev.cortado.bench;

import dev.cortado.backend.cpu.WorkerPool;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.DoubleAdder;

/** The machine a bench runs on: host facts, peak RSS, and host memory bandwidth measured in the run. */
public final class Host {
    private Host() {}

    public record Bandwidth(double readGBs, double copyGBs, long bytes, int threads) {}

    /**
     * Multi-threaded read (vector sum) and copy of a native buffer of {@code bytes} (≫ L3), all cores, best of
     * {@code passes}. Read GB/s is what a bandwidth-bound decode step can hope for.
     */
    public static Bandwidth bandwidth(long bytes, int passes) {
        WorkerPool pool = WorkerPool.shared();
        int threads = pool.threads();
        int chunks = threads * 8;
        long chunk = (bytes / chunks) & ~4095L;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocate(chunk * chunks, 4096), dst = arena.allocate(chunk * chunks / 2, 4096);
            pool.parallelFor(chunks, (lo, hi) -> {
                for (int c = lo; c < hi; c++) src.asSlice(c * chunk, chunk).fill((byte) 1);
            });
            pool.parallelFor(chunks / 2, (lo, hi) -> {
                for (int c = lo; c < hi; c++) dst.asSlice(c * chunk, chunk).fill((byte) 0);
            });
            double bestRead = 0, bestCopy = 0;
            DoubleAdder sink = new DoubleAdder();
            for (int i = 0; i < 2000; i++) sink.add(sum(src, 0, 1 << 16)); // JIT warm-up, in cache
            for (int p = 0; p < passes; p++) {
                long t0 = System.nanoTime();
                pool.parallelFor(chunks, (lo, hi) -> {
                    for (int c = lo; c < hi; c++) sink.add(sum(src, c * chunk, chunk));
                });
                bestRead = Math.max(bestRead, chunk * chunks / ((System.nanoTime() - t0) / 1e9) / 1e9);
                t0 = System.nanoTime();
                pool.parallelFor(chunks / 2, (lo, hi) -> {
                    for (int c = lo; c < hi; c++) MemorySegment.copy(src, c * chunk, dst, c * chunk, chunk);
                });
                // copy traffic: read + write
                bestCopy = Math.max(bestCopy, 2.0 * chunk * (chunks / 2) / ((System.nanoTime() - t0) / 1e9) / 1e9);
            }
            if (sink.sum() == 42) System.out.print("");
            return new Bandwidth(bestRead, bestCopy, chunk * chunks, threads);
        }
    }

    /** Sum of the floats in [off, off + len): Vector API when present, else a plain loop (4 partial sums). */
    private static float sum(MemorySegment s, long off, long len) {
        if (dev.cortado.backend.cpu.Simd.VECTOR) return HostVectors.sum(s, off, len);
        float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        long i = off, end = off + len - 16;
        for (; i <= end; i += 16) {
            a0 += s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
            a1 += s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, i + 4);
            a2 += s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, i + 8);
            a3 += s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, i + 12);
        }
        for (; i < off + len; i += 4) a0 += s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        return a0 + a1 + a2 + a3;
    }

    /** Resets the kernel's peak-RSS counter of this process (Linux clear_refs 5); false where unsupported. */
    public static boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Peak resident set size of this process in MiB (VmHWM), or NaN. */
    public static double peakRssMb() {
        return status("VmHWM:");
    }

    /** Current resident set size of this process in MiB (VmRSS), or NaN. */
    public static double rssMb() {
        return status("VmRSS:");
    }

    private static double status(String key) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith(key)) return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return Double.NaN;
    }

    public static String hostname() {
        String h = System.getenv("HOSTNAME");
        if (h == null || h.isBlank()) {
            try {
                h = Files.readString(Path.of("/etc/hostname")).trim();
            } catch (IOException e) {
                try {
                    h = InetAddress.getLocalHost().getHostName();
                } catch (IOException e2) {
                    h = "host";
                }
            }
        }
        return h.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    public static Map<String, Object> facts() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("host", hostname());
        m.put("cpu", cpuModel());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("memory_gib", Math.round(memTotalKb() / 1024.0 / 1024.0 * 10) / 10.0);
        m.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        m.put("vector_bits", dev.cortado.backend.cpu.Simd.VECTOR ? HostVectors.bits() : 0);
        return m;
    }

    private static String cpuModel() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) return l.substring(l.indexOf(':') + 1).trim();
            }
        } catch (IOException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    private static long memTotalKb() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        } catch (IOException e) {
            // not Linux
        }
        return 0;
    }
}
