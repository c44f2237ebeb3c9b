package dev.cortado.cli;

import dev.cortado.CortadoException;
import dev.cortado.bench.ServeBench;
import dev.cortado.engine.EngineOptions;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Option;

/** The options only {@code bench serve} reads (a mixin of {@link BenchCommand}). */
public final class ServeBenchOptions {
    @Option(names = "--concurrency", split = ",", description = "serve: closed-loop loads, N concurrent streams each (default 1,8,32; --quick 32)")
    int[] concurrency;

    @Option(names = "--rates", split = ",", description = "serve: open-loop loads, seeded Poisson arrivals in requests/s (default 1,4; --quick none)")
    double[] rates;

    @Option(names = "--requests", description = "serve: requests per load (default 64)")
    Integer requests;

    @Option(names = "--prompt-lens", description = "serve: prompt lengths MIN:MAX, uniform (default 16:128; --quick 8:64)")
    String promptLens;

    @Option(names = "--gen-lens", description = "serve: generated lengths MIN:MAX, uniform (default 16:64; --quick 8:32)")
    String genLens;

    @Option(names = "--static-batch", description = "serve: static batching's batch size (default: the stream count in closed loop, 8 in open loop)")
    Integer staticBatch;

    @Option(names = "--batch-wait-ms", defaultValue = "100", description = "serve: how long static batching waits to fill a batch once free (default ${DEFAULT-VALUE})")
    int batchWaitMs;

    @Option(names = "--kv-memory", description = "serve: the engine's KV pool size, e.g. 1g (default: the engine's)")
    String kvMemory;

    @Option(names = "--token-budget", description = "serve: the engine's tokens per scheduler iteration (default: the engine's)")
    Integer tokenBudget;

    @Option(names = "--systems", split = ",", description = "serve: subset of one-at-a-time,static,engine,http")
    List<String> systems;

    @Option(names = "--http", description = "serve: the engine in-process vs the same engine behind `cortado serve` "
            + "over loopback HTTP (streamed /v1/completions): --systems engine,http")
    boolean http;

    @Option(names = "--seed", defaultValue = "1", description = "serve: seed of the request list and the arrivals")
    long seed;

    ServeBench.Options resolve(String model, Integer warmup, boolean smoke, boolean quick) {
        int[] p = range(promptLens, smoke ? "4:12" : quick ? "8:64" : "16:128", "--prompt-lens");
        int[] g = range(genLens, smoke ? "2:6" : quick ? "8:32" : "16:64", "--gen-lens");
        int[] c = concurrency != null ? concurrency : smoke ? new int[] {3} : quick ? new int[] {32} : new int[] {1, 8, 32};
        double[] r = rates != null ? rates : smoke ? new double[] {50} : quick ? new double[0] : new double[] {1, 4};
        int n = requests != null ? requests : smoke ? 6 : 64;
        if (n < 1) throw new CortadoException("--requests must be ≥ 1, got " + n);
        if (Arrays.stream(c).anyMatch(x -> x < 1)) throw new CortadoException("--concurrency values must be ≥ 1");
        if (Arrays.stream(r).anyMatch(x -> !(x > 0))) throw new CortadoException("--rates values must be > 0 requests/s");
        if (staticBatch != null && staticBatch < 1) throw new CortadoException("--static-batch must be ≥ 1");
        if (batchWaitMs < 0) throw new CortadoException("--batch-wait-ms must be ≥ 0");
        if (warmup != null && warmup > 1) throw new CortadoException("bench serve: --warmup is 0 or 1 (a warm-up pass per system)");
        EngineOptions eo = EngineOptions.defaults();
        if (kvMemory != null) eo = eo.kvMemory(EngineOptions.parseBytes(kvMemory));
        if (tokenBudget != null) eo = eo.tokenBudget(tokenBudget);
        List<String> s = systems != null ? systems : http ? List.of("engine", "http") : List.of("one-at-a-time", "static", "engine");
        return new ServeBench.Options(model != null ? model : "synthetic:gpt2-124m", n, p[0], p[1], g[0], g[1], r, c, staticBatch,
                batchWaitMs, eo, seed, !smoke && (warmup == null || warmup > 0), smoke, quick, s);
    }

    private static int[] range(String v, String def, String name) {
        String s = v != null ? v : def;
        String[] f = s.split(":");
        try {
            int lo = Integer.parseInt(f[0].trim()), hi = f.length > 1 ? Integer.parseInt(f[1].trim()) : lo;
            if (f.length > 2 || lo < 1 || hi < lo) throw new NumberFormatException();
            return new int[] {lo, hi};
        } catch (NumberFormatException e) {
            throw new CortadoException(name + " must be MIN:MAX with 1 ≤ MIN ≤ MAX (or one length), got '" + s + "'");
        }
    }
}
