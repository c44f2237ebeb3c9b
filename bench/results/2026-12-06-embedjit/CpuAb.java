import dev.cortado.backend.cpu.CpuBackend;
import dev.cortado.backend.cpu.WorkerPool;
import dev.cortado.engine.EncoderRunner;
import dev.cortado.registry.Embedders;
import java.lang.management.*;
import java.nio.file.Path;
import java.util.*;

/** Encoder forward on one thread: thread CPU time per pass (robust to a loaded host's preemption). args: batch passes threads */
public class CpuAb {
    public static void main(String[] a) throws Exception {
        int b = Integer.parseInt(a[0]), passes = Integer.parseInt(a[1]), threads = Integer.parseInt(a[2]);
        Path onnx = Path.of(System.getProperty("user.home"), ".cache/cortado/all-minilm-l6-v2/model.onnx");
        int seq = 128;
        Random r = new Random(42);
        int[][] ids = new int[b][seq]; int[][] types = new int[b][seq]; boolean[][] valid = new boolean[b][seq];
        for (int i = 0; i < b; i++) { for (int j = 0; j < seq; j++) { ids[i][j] = 1000 + r.nextInt(20000); valid[i][j] = true; } ids[i][0] = 101; ids[i][seq - 1] = 102; }
        ThreadMXBean tm = ManagementFactory.getThreadMXBean();
        var jit = ManagementFactory.getCompilationMXBean();
        try (EncoderRunner e = Embedders.openCortado(onnx, new CpuBackend(new WorkerPool(threads)))) {
            long w0 = System.nanoTime(), seen = -1, quiet = System.nanoTime();
            while (true) {
                e.lastHiddenState(ids, types, valid);
                long c = jit.getTotalCompilationTime();
                if (c != seen) { seen = c; quiet = System.nanoTime(); }
                if (System.nanoTime() - w0 > 4e9 && System.nanoTime() - quiet > 1.5e9) break;
                if (System.nanoTime() - w0 > 40e9) break;
            }
            double[] cpu = new double[passes], wall = new double[passes];
            for (int p = 0; p < passes; p++) {
                long c0 = tm.getCurrentThreadCpuTime(), t0 = System.nanoTime();
                e.lastHiddenState(ids, types, valid);
                cpu[p] = (tm.getCurrentThreadCpuTime() - c0) / 1e6; wall[p] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(cpu); Arrays.sort(wall);
            System.out.printf("b%d threads %d: main-thread cpu ms/pass median %.2f (min %.2f)  wall median %.2f (min %.2f)  warm %.1fs%n",
                b, threads, cpu[passes / 2], cpu[0], wall[passes / 2], wall[0], 0.0);
        }
    }
}
