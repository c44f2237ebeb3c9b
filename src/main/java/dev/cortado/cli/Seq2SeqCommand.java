package dev.cortado.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.engine.DefaultModels;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.engine.Seq2SeqRunner;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.GenerationResult;
import dev.cortado.model.Families;
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
    @Option(names = "--max-length", description = "maximum output tokens") Integer maxLength;
    @Option(names = "--batch-size", defaultValue = "8", description = "sources per batch") int batchSize;
    @Option(names = "--engine", description = "cortado, ort or auto (default: Cortado when safetensors are present, else ONNX Runtime)") String engine;
    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda[:N]") String device;
    @Option(names = "--dtype", defaultValue = "f32", description = "weights: f32, bf16 (CPU: linear weights as bfloat16), f16 (CUDA)") String dtype;
    @Option(names = "--input", description = "input file: .txt (a line each), .tsv (--column), .jsonl (--field)") Path input;
    @Option(names = "--column", defaultValue = "0", description = "TSV column (0-based index or header name)") String column;
    @Option(names = "--field", defaultValue = "text", description = "JSONL field") String field;
    @Option(names = "--output", description = "write results here instead of stdout") Path output;
    @Option(names = "--no-truncate", description = "fail on sources longer than the model's source limit (encoder positions, or model_max_length in tokenizer_config.json) instead of truncating") boolean noTruncate;
    @Option(names = "--json", description = "print {source, text, score, tokens}") boolean json;
    @Parameters(arity = "0..*", paramLabel = "TEXT") List<String> texts;

    abstract String defaultModel();

    abstract String what();

    @Override
    public Integer call() throws IOException {
        dev.cortado.Device dev = Devices.parse(device);
        dev.cortado.tensor.DType dt = Devices.dtype(dtype);
        if (batchSize < 1) throw new CortadoException("--batch-size must be ≥ 1, got " + batchSize);
        if (beams != null && beams < 1) throw new CortadoException("--beams must be ≥ 1, got " + beams);
        if (maxLength != null && maxLength < 1) throw new CortadoException("--max-length must be ≥ 1, got " + maxLength);
        List<String> inputs = input != null ? readFile(input) : Inputs.argsOrStdin(texts, System.in);
        Path m = model != null ? model : DefaultModels.shipped(defaultModel(), what());
        GenerationConfig c = ModelFiles.generationConfig(m);
        if (beams != null) c = c.numBeams(beams);
        if (maxLength != null) c = c.maxNewTokens(maxLength);
        Tokenizer tok = ModelFiles.tokenizer(m, tokenizer);
        PrintWriter err = spec.commandLine().getErr();
        Families.Engine e = engine == null || engine.equals("auto") ? null : Families.Engine.parse(engine);
        PrintWriter out = output != null ? new PrintWriter(Files.newBufferedWriter(output, StandardCharsets.UTF_8)) : spec.commandLine().getOut();
        ObjectMapper om = new ObjectMapper();
        try (Seq2Seq s2s = Families.openSeq2Seq(m, dev, dt, e)) {
            Seq2SeqRunner runner = new Seq2SeqRunner(s2s, tok, c, !noTruncate, w -> err.println("cortado: warning: " + w))
                    .sourceLimit(tokenizer == null ? ModelFiles.modelMaxLength(m) : null);
            Progress progress = input != null ? new Progress(err, inputs.size()) : null;
            for (List<String> batch : Seq2SeqRunner.batches(inputs, batchSize)) {
                List<GenerationResult> rs = runner.run(batch);
                int per = runner.config().numReturnSequences();
                long generated = 0;
                for (int i = 0; i < batch.size(); i++) {
                    for (int k = 0; k < per; k++) {
                        GenerationResult r = rs.get(i * per + k);
                        generated += r.ids().length;
                        if (json) {
                            ObjectNode o = om.createObjectNode().put("source", batch.get(i)).put("text", r.text()).put("score", r.score());
                            o.put("tokens", r.ids().length);
                            out.println(o.toString());
                        } else {
                            out.println(r.text());
                        }
                    }
                }
                out.flush();
                if (progress != null) progress.advance(batch.size(), generated);
            }
            if (progress != null) progress.finish();
        } finally {
            if (output != null) out.close();
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
            if (column.matches("\\d+")) {
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
