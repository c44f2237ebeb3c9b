package dev.cortado.cli;

import dev.cortado.CortadoException;
import dev.cortado.api.ServedModel;
import dev.cortado.engine.EngineOptions;
import dev.cortado.server.OpenAiServer;
import dev.cortado.server.ServerOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cortado serve}: an OpenAI-compatible HTTP server. Each {@code --model} is loaded once into its own engine;
 * one stderr line says when it is ready; SIGTERM or Ctrl-C stops it gracefully and it exits with code 0.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve models over an OpenAI-compatible HTTP API (/v1/completions, /v1/chat/completions, "
                + "/v1/embeddings, /v1/audio/transcriptions, /v1/audio/translations, /v1/models, /health, /metrics); "
                + "SIGTERM stops it gracefully.")
public final class ServeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "[NAME=]PATH", description = "a model folder to serve "
            + "(repeatable): a decoder (completions, chat), a seq2seq model (completions = translation/summary) or an "
            + "embedding model (embeddings; all-minilm-l6-v2 is built in) or a Whisper folder (audio transcriptions and "
            + "translations); its API name is NAME, or the folder's name")
    List<String> models;
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to listen on (default 127.0.0.1, "
            + "loopback only; 0.0.0.0 for every interface)") String host;
    @Option(names = "--port", defaultValue = "8080", description = "port (default 8080; 0 = any free port)") int port;
    @Option(names = "--api-key", description = "require 'Authorization: Bearer KEY' (default: $CORTADO_API_KEY; none "
            + "when unset)") String apiKey;
    @Option(names = "--kv-memory", description = "KV cache pool of each decoder, e.g. 2g or 512m (default: 64 "
            + "full-context sequences, at most 1g)") String kvMemory;
    @Option(names = "--max-queue", defaultValue = "256", description = "requests one model holds at once, running or "
            + "waiting (default 256); more get HTTP 429") int maxQueue;
    @Option(names = "--max-body", defaultValue = "4m", description = "largest request body (default 4m); larger "
            + "gets HTTP 413") String maxBody;
    @Option(names = "--shutdown-grace", defaultValue = "10", description = "seconds a stop waits for requests under "
            + "way before cancelling them (default 10)") int grace;
    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda[:N]") String device;
    @Option(names = "--dtype", defaultValue = "f32", description = "weights: f32, bf16 (CPU), f16 (CUDA)") String dtype;
    @picocli.CommandLine.Mixin QuantizeOptions quantizeOptions = new QuantizeOptions();

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        String key = apiKey != null ? apiKey : System.getenv("CORTADO_API_KEY");
        if (key != null && key.isEmpty()) key = null;
        if (grace < 0) throw new CortadoException("--shutdown-grace must be ≥ 0 seconds, got " + grace);
        ServerOptions so = ServerOptions.defaults().host(host).port(port).apiKey(key).maxQueue(maxQueue)
                .maxBodyBytes(EngineOptions.parseBytes(maxBody)).shutdownGrace(Duration.ofSeconds(grace));
        boolean loopback = so.loopback();
        List<Named> named = new ArrayList<>();
        for (String m : models) named.add(Named.parse(m));
        for (int i = 0; i < named.size(); i++)
            for (int j = 0; j < i; j++)
                if (named.get(i).name() != null && named.get(i).name().equals(named.get(j).name()))
                    throw new CortadoException("two models are named '" + named.get(i).name() + "'; give each its own NAME=");
        dev.cortado.device.Device dev = quantizeOptions.apply(Devices.parse(device));
        dev.cortado.tensor.DType dt = Devices.dtype(dtype);
        EngineOptions options = EngineOptions.defaults();
        if (kvMemory != null) options = options.kvMemory(EngineOptions.parseBytes(kvMemory));

        CountDownLatch stop = new CountDownLatch(1);
        List<ServedModel> served = new ArrayList<>();
        OpenAiServer server;
        try {
            for (Named n : named) served.add(BatchCommand.open(n.path(), n.name(), dev, dt, options));
            server = new OpenAiServer(served, so);
        } catch (BindException e) {
            served.forEach(ServedModel::close);
            throw new CortadoException("cannot listen on " + host + ":" + port + " (" + e.getMessage()
                    + "); choose another --port or stop the program using it");
        } catch (RuntimeException | IOException e) {
            served.forEach(ServedModel::close);
            throw e;
        }
        if (!loopback && key == null)
            err.println("cortado: warning: listening on " + host + " without an API key: anyone who can reach this "
                    + "port can use the models; set --api-key or CORTADO_API_KEY");
        try (AutoCloseable signals = Signals.onTerminate(stop::countDown)) {
            err.println("cortado: serving " + String.join(", ", server.modelNames()) + " on " + server.url());
            err.flush();
            stop.await();
            err.println("cortado: stopping (waiting up to " + grace + " s for requests under way)");
            err.flush();
        } catch (Exception e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
        } finally {
            server.close();
        }
        err.println("cortado: stopped");
        err.flush();
        return 0;
    }

    /** {@code NAME=PATH} or {@code PATH}. */
    record Named(String name, Path path) {
        static Named parse(String arg) {
            int eq = arg.indexOf('=');
            if (eq > 0 && !Files.exists(Path.of(arg))) {
                String name = arg.substring(0, eq);
                if (!name.matches("[A-Za-z0-9][A-Za-z0-9._:/-]*"))
                    throw new CortadoException("--model " + arg + ": the name '" + name + "' may hold only letters, digits "
                            + "and . _ : / -; use NAME=PATH");
                return new Named(name, check(Path.of(arg.substring(eq + 1))));
            }
            return new Named(null, check(Path.of(arg)));
        }

        private static Path check(Path p) {
            if (!Files.exists(p) && p.toString().equals(dev.cortado.engine.DefaultModels.MINILM))
                return dev.cortado.engine.DefaultModels.minilm(); // the default embedder, shipped in the jar
            if (!Files.exists(p)) throw new CortadoException("model not found: " + p + " (a model folder, or "
                    + dev.cortado.engine.DefaultModels.MINILM + " for the built-in embedder)");
            return p;
        }
    }
}
