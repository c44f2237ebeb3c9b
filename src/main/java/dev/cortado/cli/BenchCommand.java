package dev.cortado.cli;

import dev.cortado.CortadoException;
import dev.cortado.bench.EmbedBench;
import dev.cortado.engine.DefaultModels;
import dev.cortado.engine.Embedders;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cortado bench SCENARIO}: side-by-side benchmarks (performance claims live here, not in tests). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks: embed (Cortado CPU vs ONNX Runtime CPU).")
public final class BenchCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SCENARIO", description = "embed")
    String scenario;

    @Option(names = "--model", description = "model path (default: the embedded default model)")
    Path model;

    @Option(names = "--batch", defaultValue = "1,32", split = ",", description = "batch sizes")
    int[] batches;

    @Option(names = "--seq", defaultValue = "128", description = "tokens per input")
    int seq;

    @Option(names = "--threads", description = "threads per engine (default: all cores)") Integer threads;
    @Option(names = "--warmup", defaultValue = "3") int warmup;
    @Option(names = "--repeats", defaultValue = "10") int repeats;

    @Option(names = "--smoke", description = "tiny run to check the scenario works (no meaningful timing)")
    boolean smoke;

    @Override
    public Integer call() {
        if (seq < 2 || seq > 512) throw new CortadoException("--seq must be in [2, 512], got " + seq);
        if (repeats < 1 || warmup < 0) throw new CortadoException("--repeats must be ≥ 1 and --warmup ≥ 0");
        if (Arrays.stream(batches).anyMatch(b -> b < 1)) throw new CortadoException("--batch sizes must be ≥ 1");
        if (smoke) {
            batches = new int[] {1, 2};
            seq = 16;
            warmup = 0;
            repeats = 1;
        }
        switch (scenario) {
            case "embed" -> EmbedBench.run(Embedders.resolveOnnx(model != null ? model : DefaultModels.minilm()),
                    batches, seq, warmup, repeats,
                    threads != null ? threads : Runtime.getRuntime().availableProcessors(), spec.commandLine().getOut());
            default -> throw new CortadoException("unknown bench scenario '" + scenario + "' (available: embed)");
        }
        return 0;
    }
}
