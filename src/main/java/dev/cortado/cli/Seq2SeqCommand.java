package dev.cortado.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.engine.DefaultModels;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.engine.Engine;
import dev.cortado.engine.EngineOptions;
import dev.cortado.engine.Seq2SeqModel;
import dev.cortado.engine.Seq2SeqRunner;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.registry.Families;
import dev.cortado.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Shared body of {@code translate} and {@code summarize}: inputs from TEXT, stdin lines or a file; batched. */
abstract class Seq2SeqCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", description = "seq2seq model folder (Optimum ONNX export or HF safetensors)") Path model;
    @Option(names = "--tokenizer", description = "tokenizer.json (default: in the model folder)") Path tokenizer;
    @Option(names = "--beams", description = "beam width (default: the model's generation_config)") Integer beams;
    @Option(names = "--max-length", description = "maximum output tokens per source (at most the decoder's positions - 1)") Integer maxLength;
    @Option(names = "--batch-size", defaultValue = "8", description = "sources per batch (default ${DEFAULT-VALUE})") int batchSize;
    @Option(names = "--engine", defaultValue = "auto", description = "cortado, ort or auto (default: Cortado's engine when it runs the model, else ONNX Runtime)") String engine;
    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda[:N]") String device;
    @Option(names = "--dtype", defaultValue = "f32", description = "weights: f32, bf16 (CPU: linear weights as bfloat16), f16 (CUDA)") String dtype;
    @picocli.CommandLine.Mixin QuantizeOptions quantizeOptions = new QuantizeOptions();
    @Option(names = "--input", paramLabel = "FILE", description = "read the sources from FILE instead of TEXT/stdin: .txt (a line each; an empty line gives an empty output line), "
            + ".tsv (see --column), .jsonl (see --field)") Path input;
    @Option(names = "--column", description = "TSV column: a header name (the first line is the header and is skipped) or a 0-based index "
            + "(every line is a source); required when the TSV has more than one column") String column;
    @Option(names = "--field", defaultValue = "text", description = "JSONL field holding the source (default ${DEFAULT-VALUE})") String field;
    @Option(names = "--output", paramLabel = "FILE", description = "write the results to FILE instead of stdout, all or nothing: they go to a hidden temporary file "
            + "next to FILE, renamed to FILE when every source is done; a failed or interrupted (Ctrl-C) run leaves FILE as it was") Path output;
    @Option(names = "--no-truncate", description = "fail on sources longer than the model's source limit (encoder positions, or model_max_length in tokenizer_config.json) instead of truncating") boolean noTruncate;
    @Option(names = "--json", description = "print {source, text, score, tokens} per source ({source, error} for an empty source)") boolean json;
    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "sources, one output line each (default: one per stdin line)") List<String> texts;

    abstract String defaultModel();

    abstract String what();

    @Override
    public Integer call() throws IOException {
        dev.cortado.device.Device dev = quantizeOptions.apply(Devices.parse(device));
        dev.cortado.tensor.DType dt = Devices.dtype(dtype);
        Families.Engine e = Models.engine(engine);
        if (batchSize < 1) throw new CortadoException("--batch-size must be ≥ 1, got " + batchSize);
        if (beams != null && beams < 1) throw new CortadoException("--beams must be ≥ 1, got " + beams);
        if (maxLength != null && maxLength < 1) throw new CortadoException("--max-length must be ≥ 1, got " + maxLength);
        if (input != null && texts != null && !texts.isEmpty()) {
            throw new CortadoException("both --input " + input + " and TEXT ('" + texts.getFirst() + "'" + (texts.size() > 1 ? ", ..." : "")
                    + ") were given; pass one of them");
        }
        List<String> inputs = input != null ? readFile(input) : Inputs.argsOrStdin(texts, System.in);
        Path m = model != null ? model : DefaultModels.shipped(defaultModel(), what());
        String command = spec.name();
        GenerationConfig c = ModelFiles.generationConfig(m);
        if (beams != null) c = c.numBeams(beams);
        if (maxLength != null) c = c.maxNewTokens(maxLength);
        PrintWriter err = spec.commandLine().getErr();
        ObjectMapper om = new ObjectMapper();
        Tokenizer tok = ModelFiles.tokenizer(m, tokenizer);
        int rows = Math.max(c.numBeams(), c.doSample() ? c.numReturnSequences() : 1);
        try (Seq2Seq s2s = Models.openSeq2Seq(m, dev, dt, e, command);
             // Cortado's own models run through the serving engine (a batch's sources are its concurrent requests)
             Engine engine = s2s instanceof Seq2SeqModel sm && Engine.supports(sm.decoderModel())
                     ? new Engine(sm, tok, EngineOptions.defaults().kvSequences(batchSize * rows), false) : null;
             AtomicOutput file = output != null ? AtomicOutput.open(output, err) : null) {
            PrintWriter out = file != null ? file.writer() : spec.commandLine().getOut();
            Seq2SeqRunner runner = new Seq2SeqRunner(s2s, tok, c, !noTruncate, w -> err.println("cortado: warning: " + w))
                    .sourceLimit(tokenizer == null ? ModelFiles.modelMaxLength(m) : null).viaEngine(engine);
            Progress progress = input != null ? new Progress(err, inputs.size()) : null;
            int per = runner.config().numReturnSequences(), offset = 0;
            for (List<String> batch : Seq2SeqRunner.batches(inputs, batchSize)) {
                List<String> nonEmpty = new ArrayList<>();
                List<Integer> numbers = new ArrayList<>();  // 1-based position in the whole input, for messages
                for (int i = 0; i < batch.size(); i++) {
                    if (batch.get(i).isBlank()) continue;
                    nonEmpty.add(batch.get(i));
                    numbers.add(offset + i + 1);
                }
                List<GenerationResult> rs = nonEmpty.isEmpty() ? List.of() : runner.run(nonEmpty, numbers::get);
                long generated = 0;
                int next = 0;
                for (int i = 0; i < batch.size(); i++) {
                    boolean empty = batch.get(i).isBlank();
                    if (empty) err.println("cortado: warning: source " + (offset + i + 1) + " is empty; its output is empty");
                    for (int k = 0; k < per; k++) {
                        GenerationResult r = empty ? null : rs.get(next * per + k);
                        if (r != null) generated += r.ids().length;
                        if (json) {
                            ObjectNode o = om.createObjectNode().put("source", batch.get(i));
                            if (r == null) o.put("error", "empty source");
                            else o.put("text", r.text()).put("score", r.score()).put("tokens", r.ids().length);
                            out.println(o.toString());
                        } else {
                            out.println(r == null ? "" : r.text());
                        }
                    }
                    if (!empty) next++;
                }
                out.flush();
                offset += batch.size();
                if (file != null) file.progress(offset, inputs.size());
                if (progress != null) progress.advance(batch.size(), generated);
            }
            if (progress != null) progress.finish();
            if (file != null) file.commit();
        }
        return 0;
    }

    private List<String> readFile(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new CortadoException("input file not found: " + file);
        List<String> lines = Inputs.lines(Files.newInputStream(file), file.toString());
        String name = file.getFileName().toString().toLowerCase();
        List<String> out = new ArrayList<>();
        if (name.endsWith(".jsonl")) {
            ObjectMapper om = new ObjectMapper();
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) continue;
                JsonNode n;
                try {
                    n = om.readTree(lines.get(i));
                } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
                    throw new CortadoException(file + " line " + (i + 1) + ": not JSON (" + ex.getOriginalMessage() + ")");
                }
                if (!n.hasNonNull(field)) throw new CortadoException(file + " line " + (i + 1) + ": no field '" + field + "'");
                out.add(n.get(field).asText());
            }
        } else if (name.endsWith(".tsv")) {
            int col;
            int start = 0;
            int columns = lines.isEmpty() ? 1 : lines.getFirst().split("\t", -1).length;
            if (column == null && columns > 1) {
                throw new CortadoException(file + " has " + columns + " tab-separated columns: pass --column NAME (the first line is the header) "
                        + "or --column INDEX (0-based, no header line)");
            }
            if (column == null) {
                col = 0;
            } else if (column.matches("\\d+")) {
                col = Integer.parseInt(column);
            } else {
                col = java.util.Arrays.asList(lines.getFirst().split("\t", -1)).indexOf(column);
                if (col < 0) throw new CortadoException(file + ": no column named '" + column + "' in the header");
                start = 1;
            }
            for (int i = start; i < lines.size(); i++) {
                String[] f = lines.get(i).split("\t", -1);
                if (col >= f.length) throw new CortadoException(file + " line " + (i + 1) + ": no column " + col);
                out.add(f[col]);
            }
        } else {
            out.addAll(lines);
        }
        return out;
    }

    /** A one-line progress bar on stderr: done/total, sentences/s, generated tokens/s, ETA. */
    static final class Progress {
        private final PrintWriter err;
        private final int total;
        private final long t0 = System.nanoTime();
        private int done;
        private long tokens;

        Progress(PrintWriter err, int total) {
            this.err = err;
            this.total = total;
        }

        void advance(int n, long generated) {
            done += n;
            tokens += generated;
            double s = (System.nanoTime() - t0) / 1e9;
            int width = 30, filled = total == 0 ? width : (int) ((long) width * done / total);
            double eta = done == 0 ? 0 : s / done * (total - done);
            err.printf("\r[%s%s] %d/%d  %.1f sent/s  %.0f tok/s  ETA %ds ", "#".repeat(filled), " ".repeat(width - filled),
                    done, total, done / s, tokens / s, Math.round(eta));
            err.flush();
        }

        void finish() {
            err.println();
        }
    }
}
