package dev.cortado.cli;

import dev.cortado.runtime.Cortado;
import dev.cortado.CortadoException;
import dev.cortado.api.BatchJob;
import dev.cortado.api.OpenAiService;
import dev.cortado.api.ServedModel;
import dev.cortado.engine.DecoderModel;
import dev.cortado.engine.EngineOptions;
import dev.cortado.engine.Pooling;
import dev.cortado.generate.LanguageModel;
import dev.cortado.model.whisper.Transcriber;
import dev.cortado.registry.Families;
import dev.cortado.registry.GgufModels;
import dev.cortado.tokenizer.TokenizerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cortado batch}: an OpenAI Batch API input file ({@code /v1/completions}, {@code /v1/chat/completions},
 * {@code /v1/embeddings} lines) through one model, continuously batched; results appended as they finish;
 * rerunning with the same --output resumes.
 */
@Command(name = "batch", mixinStandardHelpOptions = true,
        description = "Run an OpenAI Batch API file (JSONL: custom_id, method, url, body) through one model; "
                + "rerun with the same --output to resume.")
public final class BatchCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, description = "model folder: a decoder (completions, chat), a seq2seq "
            + "model (completions = translation/summary) or an embedding model (embeddings); its folder name is the model name")
    Path model;
    @Option(names = "--input", required = true, description = "requests, one JSON object per line") Path input;
    @Option(names = "--output", required = true, description = "results, one JSON line per request (appended; "
            + "custom_ids already there are skipped)") Path output;
    @Option(names = "--kv-memory", description = "KV cache pool size, e.g. 2g or 512m (default: 64 full-context "
            + "sequences, at most 1g)") String kvMemory;
    @Option(names = "--max-concurrent", defaultValue = "64", description = "requests in flight at once (default 64)")
    int maxConcurrent;
    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda[:N]") String device;
    @Option(names = "--dtype", defaultValue = "f32", description = "weights: f32, bf16 (CPU), f16 (CUDA)") String dtype;
    @picocli.CommandLine.Mixin QuantizeOptions quantizeOptions = new QuantizeOptions();
    @Option(names = "--spark", paramLabel = "MASTER", description = "run the job on Apache Spark: local[N], spark://HOST:7077, "
            + "yarn, k8s://…; output sorted by custom_id (needs the cortado-spark module: ./cortado adds it)") String spark;
    @Option(names = "--spark-conf", paramLabel = "KEY=VALUE", description = "a Spark setting for --spark (repeatable), e.g. "
            + "spark.executor.memory=8g") java.util.Map<String, String> sparkConf = new java.util.LinkedHashMap<>();
    @Option(names = "--partitions", description = "--spark: partitions of the requests (default: 2 per executor core)")
    Integer partitions;

    @Override
    public Integer call() throws IOException {
        if (maxConcurrent < 1) throw new CortadoException("--max-concurrent must be ≥ 1, got " + maxConcurrent);
        if (spark != null) return onSpark(); // checks its own paths (the model is where the executors see it)
        if (!sparkConf.isEmpty() || partitions != null) throw new CortadoException("--spark-conf and --partitions need --spark MASTER");
        if (!Files.isRegularFile(input)) throw new CortadoException("input file not found: " + input);
        if (!Files.exists(model)) throw new CortadoException("model not found: " + model);
        dev.cortado.device.Device dev = quantizeOptions.apply(Devices.parse(device));
        dev.cortado.tensor.DType dt = Devices.dtype(dtype);
        EngineOptions options = EngineOptions.defaults();
        if (kvMemory != null) options = options.kvMemory(EngineOptions.parseBytes(kvMemory));
        PrintWriter err = spec.commandLine().getErr();
        Seq2SeqCommand.Progress[] progress = {null};
        long[] last = {0, 0};
        try (ServedModel served = open(model, dev, dt, options)) {
            BatchJob job = new BatchJob(new OpenAiService(served), maxConcurrent, (done, total, tokens) -> {
                if (progress[0] == null) progress[0] = new Seq2SeqCommand.Progress(err, total);
                progress[0].advance((int) (done - last[0]), tokens - last[1]);
                last[0] = done;
                last[1] = tokens;
            });
            BatchJob.Summary s = job.run(input, output);
            if (progress[0] != null) progress[0].finish();
            err.println("cortado: batch: " + s.succeeded() + " results, " + s.failed() + " errors"
                    + (s.skipped() > 0 ? ", " + s.skipped() + " already in " + output + " (skipped)" : "")
                    + " → " + output);
            err.flush();
        }
        return 0;
    }

    /** {@code --spark}: hands the job to the cortado-spark module (not on the default class path). */
    private int onSpark() {
        String fix = "--spark needs the cortado-spark module and Spark on the class path: run it through ./cortado, which "
                + "builds spark/ and adds them when --spark is given";
        try {
            var run = Class.forName("dev.cortado.spark.SparkBatch").getMethod("run", String.class, java.util.Map.class,
                    Path.class, Path.class, Path.class, String.class, String.class, String.class, int.class, Integer.class,
                    PrintWriter.class);
            return (Integer) run.invoke(null, spark, sparkConf, model, input, output, device, dtype, kvMemory,
                    maxConcurrent, partitions, spec.commandLine().getErr());
        } catch (ClassNotFoundException | NoSuchMethodException | LinkageError e) {
            throw new CortadoException(fix);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof LinkageError) throw new CortadoException(fix + " (" + e.getCause().getMessage() + ")");
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new CortadoException("--spark: " + e.getCause().getMessage(), e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Opens a model as {@code cortado batch --model PATH --device D --dtype T --kv-memory K} does (Spark executors
     * open theirs this way); {@code kvMemory} null: the engine's default pool.
     */
    public static ServedModel open(Path m, String device, String dtype, String kvMemory) {
        EngineOptions options = EngineOptions.defaults();
        if (kvMemory != null) options = options.kvMemory(EngineOptions.parseBytes(kvMemory));
        return open(m, Devices.parse(device), Devices.dtype(dtype), options);
    }

    /** Opens the model as what it is (the kind detection every command uses), under its folder's name. */
    static ServedModel open(Path m, dev.cortado.device.Device dev, dev.cortado.tensor.DType dt, EngineOptions options) {
        return open(m, null, dev, dt, options);
    }

    /** As {@link #open(Path, dev.cortado.device.Device, dev.cortado.tensor.DType, EngineOptions)} under {@code name} (null: the folder's). */
    static ServedModel open(Path m, String name, dev.cortado.device.Device dev, dev.cortado.tensor.DType dt, EngineOptions options) {
        Path abs = m.toAbsolutePath().normalize();
        if (name == null && GgufModels.is(abs)) name = abs.getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
        if (name == null) name = (Files.isDirectory(abs) ? abs : abs.getParent()).getFileName().toString();
        switch (Models.kind(m)) {
            case ENCODER -> {
                if (dev.isCuda()) throw new CortadoException("embedding models run on the CPU only so far; use --device cpu");
                return ServedModel.embedding(name, Models.openEmbedder(m, null, null, Pooling.MEAN, true));
            }
            case SPEECH -> {
                var t = Transcriber.open(m, dev, null);
                try {
                    return ServedModel.speech(name, t.viaEngine(options));
                } catch (RuntimeException e) {
                    t.close();
                    throw e;
                }
            }
            case SEQ2SEQ -> {
                return ServedModel.seq2seq(name, Cortado.open(m, dev, options), ModelFiles.tokenizer(m, null),
                        ModelFiles.generationConfig(m));
            }
            default -> {
                var tok = ModelFiles.tokenizer(m, null);
                TokenizerConfig tc = ModelFiles.tokenizerConfig(m);
                LanguageModel lm = Models.openDecoder(m, dev, dt, Families.Engine.CORTADO);
                if (!(lm instanceof DecoderModel dm)) {
                    lm.close();
                    throw new CortadoException(m + " is not run by Cortado's engine, which batch needs");
                }
                try {
                    return ServedModel.decoder(name, dm, tok, tc,
                            ModelFiles.generationConfig(m), options);
                } catch (RuntimeException e) {
                    dm.close();
                    throw e;
                }
            }
        }
    }
}
