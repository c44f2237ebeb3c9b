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
import dev.cortado.registry.Families;
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

    @Override
    public Integer call() throws IOException {
        if (maxConcurrent < 1) throw new CortadoException("--max-concurrent must be ≥ 1, got " + maxConcurrent);
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

    /** Opens the model as what it is (the kind detection every command uses), under its folder's name. */
    static ServedModel open(Path m, dev.cortado.device.Device dev, dev.cortado.tensor.DType dt, EngineOptions options) {
        return open(m, null, dev, dt, options);
    }

    /** As {@link #open(Path, dev.cortado.device.Device, dev.cortado.tensor.DType, EngineOptions)} under {@code name} (null: the folder's). */
    static ServedModel open(Path m, String name, dev.cortado.device.Device dev, dev.cortado.tensor.DType dt, EngineOptions options) {
        Path abs = m.toAbsolutePath().normalize();
        if (name == null) name = (Files.isDirectory(abs) ? abs : abs.getParent()).getFileName().toString();
        switch (Models.kind(m)) {
            case ENCODER -> {
                if (dev.isCuda()) throw new CortadoException("embedding models run on the CPU only so far; use --device cpu");
                return ServedModel.embedding(name, Models.openEmbedder(m, null, null, Pooling.MEAN, true));
            }
            case SEQ2SEQ -> {
                return ServedModel.seq2seq(name, Cortado.open(m, dev, options), ModelFiles.tokenizer(m, null),
                        ModelFiles.generationConfig(m));
            }
            default -> {
                var tok = ModelFiles.tokenizer(m, null);
                Path tc = ModelFiles.sideFile(m, "tokenizer_config.json");
                LanguageModel lm = Models.openDecoder(m, dev, dt, Families.Engine.CORTADO);
                if (!(lm instanceof DecoderModel dm)) {
                    lm.close();
                    throw new CortadoException(m + " is not run by Cortado's engine, which batch needs");
                }
                try {
                    return ServedModel.decoder(name, dm, tok, tc == null ? null : TokenizerConfig.load(tc),
                            ModelFiles.generationConfig(m), options);
                } catch (RuntimeException e) {
                    dm.close();
                    throw e;
                }
            }
        }
    }
}
