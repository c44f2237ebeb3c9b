package dev.cortado.cli;

import dev.cortado.CortadoException;
import dev.cortado.bench.EmbedBench;
import dev.cortado.bench.TranslateBench;
import dev.cortado.bench.GenerateBench;
import dev.cortado.bench.KernelsBench;
import dev.cortado.bench.Report;
import dev.cortado.bench.ServeBench;
import dev.cortado.engine.DefaultModels;
import dev.cortado.registry.Embedders;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cortado bench SCENARIO}: side-by-side benchmarks (performance claims live here, not in tests). Every run
 * writes {@code <out>/<yyyy-mm-dd>-<host>-<scenario>.json}, {@code .md} and PNG charts.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = {
        "Benchmarks. Scenarios:",
        "  generate  decoder LM: Cortado CPU vs ONNX Runtime CPU (+ HF transformers eager/compile and onnxruntime Python when found)",
        "  embed     sentence embeddings: Cortado CPU vs ONNX Runtime CPU",
        "  kernels   CPU GEMV/GEMM/attention microbenchmarks vs measured memory bandwidth",
        "  translate seq2seq sentences/s and tokens/s, beam 1 and 4, batch 1 and 32, Cortado vs ONNX Runtime",
        "  transcribe Whisper real-time factor of a 30 s window (whisper-tiny/-base shapes, --gen-len tokens; --model whisper-tiny,...)",
        "  serve     serving engine (continuous batching) vs static batching vs one at a time, under load"})
public final class BenchCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SCENARIO", description = "generate | embed | kernels | translate | transcribe | serve")
    String scenario;

    @Option(names = "--model", description = "generate: synthetic:NAME (gpt2-124m, llama-3.2-1b, qwen2-0.5b, or NAME-smoke) "
            + "or an HF folder; embed: ONNX path (default: the embedded MiniLM)")
    String model;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, or cuda[:N] for generate (Cortado and the Python competitors on the GPU)")
    String device;
    @Option(names = "--dtype", defaultValue = "f32", description = "generate: f32, f16 or bf16 (storage type on CUDA)")
    String dtype;
    @picocli.CommandLine.Mixin QuantizeOptions quantizeOptions = new QuantizeOptions();

    @Option(names = "--onnx-int4", description = "generate, synthetic models: write the model's int4 MatMulNBits ONNX file once (Cortado's "
            + "quantizer, block 32, symmetric as ORT-GenAI's builder) and run every engine on that one file (Cortado through its MatMulNBits tracer)")
    boolean onnxInt4;
    @Option(names = "--onnx-int4-zero-points", description = "with --onnx-int4: asymmetric blocks with zero points")
    boolean onnxInt4ZeroPoints;
    @Option(names = "--onnx-int4-accuracy-level", defaultValue = "4", description = "with --onnx-int4: MatMulNBits accuracy_level (default 4, "
            + "ORT-GenAI's CPU builder: int8 activations in ONNX Runtime; 0: float activations)")
    int onnxInt4AccuracyLevel;

    @Option(names = "--batch", split = ",", description = "batch sizes (generate: 1,4,16; embed: 1,32)")
    int[] batches;

    @Option(names = "--seq", defaultValue = "128", description = "embed: tokens per input")
    int seq;

    @Option(names = "--prompt-len", defaultValue = "128", description = "generate: prompt tokens") int promptLen;
    @Option(names = "--gen-len", defaultValue = "32", description = "generate: generated tokens") int genLen;

    @Option(names = "--threads", description = "embed: threads per engine, Cortado and ONNX Runtime alike (default: all cores)")
    Integer threads;

    @Option(names = "--warmup", description = "warm-up runs (generate 1, embed 3, kernels 1); translate: seconds per engine and setting (2 with --quick, else 4)") Integer warmup;
    @Option(names = "--repeats", description = "timed runs (generate 3, embed 10, kernels 5)") Integer repeats;

    @Option(names = "--rounds", defaultValue = "1", description = "generate, embed: run the Java engines in turn this many times "
            + "(each loads, runs its repeats and closes per round), pool the runs, and print each round's Cortado/competitor "
            + "ratio and their median: robust to the host's bandwidth drifting between one engine's runs and the next's")
    int rounds;

    @Option(names = "--quick", description = "shorter run: 1 warm-up, 2 repeats, gen-len ≤ 16, no torch.compile competitor")
    boolean quick;

    @Option(names = "--op-profile", description = "translate, embed: also print where Cortado's timed passes spend their time, op by op "
            + "(each op timed through a reflective wrapper, so the sentences/s of that run read low)")
    boolean opProfile;

    @Option(names = "--smoke", description = "tiny shapes, 1 run: checks the scenario works (no meaningful timing)")
    boolean smoke;

    @Option(names = "--engines", split = ",", description = "generate: subset of cortado,ort,hf-eager,hf-compile,ort-python")
    List<String> engines;

    @Option(names = "--python", defaultValue = "auto", description = "generate: auto (run Python competitors when a python with torch is found) | off")
    String python;

    @Option(names = "--out", description = "report folder (default: bench/results; with --smoke a new temporary folder, so that a check "
            + "writes nothing into the working tree)")
    Path out;

    @Mixin ServeBenchOptions serve;

    @Override
    public Integer call() {
        PrintWriter pw = spec.commandLine().getOut();
        if (!device.equals("cpu") && !scenario.equals("generate"))
            throw new CortadoException("bench " + scenario + ": --device " + device + " is not supported yet (cpu; generate takes cuda)");
        if (repeats != null && repeats < 1 || warmup != null && warmup < 0) throw new CortadoException("--repeats must be ≥ 1 and --warmup ≥ 0");
        if (batches != null && Arrays.stream(batches).anyMatch(b -> b < 1)) throw new CortadoException("--batch sizes must be ≥ 1");
        if (!python.equals("auto") && !python.equals("off")) throw new CortadoException("--python must be auto or off, got " + python);
        Report rep = switch (scenario) {
            case "embed" -> embed(pw);
            case "generate" -> generate(pw);
            case "kernels" -> KernelsBench.run(smoke, smoke ? 0 : or(warmup, 1), smoke ? 1 : or(repeats, quick ? 3 : 5), pw);
            case "translate" -> translate(pw);
            case "transcribe" -> transcribe(pw);
            case "serve" -> ServeBench.run(serve.resolve(model, warmup, smoke, quick), pw);
            default -> throw new CortadoException("unknown bench scenario '" + scenario + "' (available: generate, embed, kernels, translate, transcribe, serve)");
        };
        Report.Written w = rep.write(outDir());
        pw.println("wrote " + w.json() + ", " + w.markdown().getFileName() + (w.pngs().isEmpty() ? ""
                : ", " + String.join(", ", w.pngs().stream().map(p -> p.getFileName().toString()).toList())));
        pw.flush();
        return 0;
    }

    private Path outDir() {
        if (out != null) return out;
        if (!smoke) return Path.of("bench/results");
        try {
            return java.nio.file.Files.createTempDirectory("cortado-bench-smoke-");
        } catch (java.io.IOException e) {
            throw new CortadoException("cannot create a temporary folder for the --smoke report: " + e.getMessage() + " (pass --out DIR)", e);
        }
    }

    private static int or(Integer v, int def) {
        return v != null ? v : def;
    }

    private Report embed(PrintWriter pw) {
        int[] b = batches != null ? batches : new int[] {1, 32};
        int s = seq, w = or(warmup, 3), r = or(repeats, 10);
        if (s < 2 || s > 512) throw new CortadoException("--seq must be in [2, 512], got " + s);
        if (smoke) {
            b = new int[] {1, 2};
            s = 16;
            w = 0;
            r = 1;
        } else if (quick) {
            w = Math.min(w, 1);
            r = Math.min(r, 3);
        }
        Path onnx = model != null ? Path.of(model) : DefaultModels.minilm();
        return EmbedBench.run(Embedders.resolveOnnx(onnx), b, s, w, r,
                threads != null ? threads : Runtime.getRuntime().availableProcessors(), opProfile, rounds, pw);
    }

    private Report translate(PrintWriter pw) {
        Path m = model != null ? Path.of(model) : DefaultModels.shipped("cortado-en-de", "translation");
        int[] b = batches != null ? batches : smoke ? new int[] {1, 2} : new int[] {1, 32};
        int[] beams = smoke ? new int[] {1, 2} : new int[] {1, 4};
        int r = smoke ? 1 : or(repeats, 3);
        double warm = smoke ? 0 : warmup != null ? warmup : quick ? 2 : 4;
        return TranslateBench.run(m, b, beams, smoke ? 4 : quick ? 16 : 32, warm, r, smoke, opProfile, pw);
    }

    private Report transcribe(PrintWriter pw) {
        List<String> names = smoke ? List.of("whisper-smoke") : model != null ? List.of(model.split(",")) : List.of("whisper-tiny", "whisper-base");
        return dev.cortado.bench.TranscribeBench.run(names, smoke ? 4 : quick ? Math.min(genLen, 16) : genLen, smoke ? 1 : or(repeats, quick ? 1 : 3), pw);
    }

    private Report generate(PrintWriter pw) {
        String m = model != null ? model : "synthetic:gpt2-124m";
        int[] b = batches != null ? batches : new int[] {1, 4, 16};
        int p = promptLen, g = genLen, w = or(warmup, 1), r = or(repeats, 3);
        List<String> e = engines != null ? engines : GenerateBench.ENGINES;
        for (String x : e) {
            if (!GenerateBench.ENGINES.contains(x)) throw new CortadoException("unknown engine '" + x + "' (" + GenerateBench.ENGINES + ")");
        }
        if (smoke) {
            b = batches != null ? batches : new int[] {1, 2};
            p = 8;
            g = 4;
            w = 0;
            r = 1;
        } else if (quick) {
            w = Math.min(w, 1);
            r = Math.min(r, 2);
            g = Math.min(g, 16);
            if (engines == null) e = e.stream().filter(x -> !x.equals("hf-compile")).toList();
        }
        if (p < 1 || g < 1) throw new CortadoException("--prompt-len and --gen-len must be ≥ 1");
        return GenerateBench.run(new GenerateBench.Options(m, b, p, g, w, r, smoke, quick, out,
                smoke && engines == null ? "off" : python, e, quantizeOptions.apply(Devices.parse(device)), Devices.dtype(dtype),
                onnxInt4 ? new dev.cortado.bench.Int4Onnx.Options(onnxInt4ZeroPoints, onnxInt4AccuracyLevel) : null, rounds), pw);
    }
}
