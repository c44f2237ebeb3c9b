package dev.cortado.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.SharedPaths;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Tokenizer throughput (not a test): encodes ~1 MB of English (Debian package descriptions, one description per
 * encode call, no special tokens) with byte-level BPE (gpt2), Unigram (t5-small) and WordPiece (bert-base-uncased),
 * single thread, then runs transformers.js on the very same strings ({@code bench/competitors/tokenizers_js.mjs},
 * when {@code node} and its scratch install are found) and prints a side-by-side table with the ratio and whether
 * the token counts and an id checksum agree.
 *
 * <p>Time is the CPU time of the measuring thread (the machine is shared, so wall time is noisy): one warm-up pass,
 * then {@code --rounds} timed passes, the fastest kept. transformers.js reports its process CPU time the same way.
 *
 * <p>Usage: {@code TokenizerBench [--shared DIR] [--mb 1] [--rounds 5] [--node-dir DIR] [--no-js] [name ...]};
 * the node dir defaults to {@code $CORTADO_NODE_BENCH_DIR}, then {@code /work/node-bench} (a folder where
 * {@code npm install @huggingface/transformers@4.3.1 --ignore-scripts} was run). Legacy form: {@code [shared] [MB]}.
 */
public final class TokenizerBench {
    private static final ObjectMapper M = new ObjectMapper();
    private static final List<String> DEFAULT = List.of("gpt2", "t5-small", "bert-base-uncased");

    /** One engine's best round on one tokenizer; {@code checksum} folds every id in order. */
    record Result(String tokenizer, long tokens, int checksum, double seconds, double wallSeconds) {
        double tokensPerS() {
            return tokens / seconds;
        }
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        Path shared = SharedPaths.root();
        double mb = 1.0;
        int rounds = 5;
        boolean js = true;
        String nodeDirArg = null;
        List<String> names = new ArrayList<>();
        List<String> positional = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--shared" -> shared = Path.of(args[++i]);
                case "--mb" -> mb = Double.parseDouble(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--node-dir" -> nodeDirArg = args[++i];
                case "--no-js" -> js = false;
                default -> positional.add(args[i]);
            }
        }
        // legacy positional form: [shared dir] [MB]; anything else is a tokenizer name
        if (!positional.isEmpty() && Files.isDirectory(Path.of(positional.get(0)).resolve("models/tokenizers"))) {
            shared = Path.of(positional.remove(0));
            if (!positional.isEmpty() && positional.get(0).matches("[0-9.]+")) mb = Double.parseDouble(positional.remove(0));
        }
        names.addAll(positional.isEmpty() ? DEFAULT : positional);
        if (shared == null) throw new IllegalStateException("shared folder not found (give --shared DIR)");
        Path tokDir = shared.resolve("models/tokenizers");

        List<String> texts = texts(shared.resolve("data/debian-descriptions/summarize/train.tsv"), (long) (mb * 1e6));
        long bytes = texts.stream().mapToLong(s -> s.getBytes(StandardCharsets.UTF_8).length).sum();
        System.out.printf("corpus: %d texts, %.2f MB; %d timed rounds after 1 warm-up, best CPU time of the thread%n",
                texts.size(), bytes / 1e6, rounds);

        Map<String, Result> cortado = new LinkedHashMap<>();
        for (String name : names) {
            Tokenizer tok = Tokenizer.fromFile(tokDir.resolve(name).resolve("tokenizer.json"));
            Result r = measure(tok, texts, name, rounds);
            cortado.put(name, r);
            System.out.printf("cortado          %-26s %9d tokens %7.3f cpu-s %7.3f wall-s %11.0f tokens/s %6.2f MB/s%n",
                    name, r.tokens, r.seconds, r.wallSeconds, r.tokensPerS(), bytes / 1e6 / r.seconds);
        }

        Map<String, Result> other = js ? transformersJs(nodeDirArg, tokDir, texts, names, rounds) : Map.of();
        System.out.println();
        System.out.println(table(cortado, other));
    }

    static Result measure(Tokenizer tok, List<String> texts, String name, int rounds) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Result best = null;
        int checksum = 0;
        for (int round = -1; round < rounds; round++) {
            long c0 = mx.getCurrentThreadCpuTime(), t0 = System.nanoTime();
            long tokens = 0;
            if (round < 0) { // warm-up, also the id checksum (same fold as tokenizers_js.mjs)
                for (String t : texts) {
                    int[] ids = tok.encode(t, false).ids();
                    tokens += ids.length;
                    for (int id : ids) checksum = checksum * 31 + id;
                    checksum = checksum * 31 - 1;
                }
                continue;
            }
            for (String t : texts) tokens += tok.encode(t, false).length();
            double cpu = (mx.getCurrentThreadCpuTime() - c0) / 1e9, wall = (System.nanoTime() - t0) / 1e9;
            if (best == null || cpu < best.seconds) best = new Result(name, tokens, checksum, cpu, wall);
        }
        return best;
    }

    /** Runs the Node script on the same strings; empty (with a note on stderr) when node or the install is missing. */
    static Map<String, Result> transformersJs(String nodeDirArg, Path tokDir, List<String> texts, List<String> names,
                                              int rounds) throws IOException, InterruptedException {
        String env = System.getenv("CORTADO_NODE_BENCH_DIR");
        Path nodeDir = Path.of(nodeDirArg != null ? nodeDirArg : env != null && !env.isEmpty() ? env : "/work/node-bench");
        Path script = Path.of(System.getProperty("cortado.home", ".")).resolve("bench/competitors/tokenizers_js.mjs");
        if (!Files.isDirectory(nodeDir.resolve("node_modules/@huggingface/transformers"))) {
            System.err.println("transformers.js: skipped, no install in " + nodeDir + " (set CORTADO_NODE_BENCH_DIR)");
            return Map.of();
        }
        if (!Files.isRegularFile(script)) {
            System.err.println("transformers.js: skipped, " + script + " not found (run from the repo root)");
            return Map.of();
        }
        Path textsFile = Files.createTempFile("cortado-tokbench", ".json");
        try {
            M.writeValue(textsFile.toFile(), texts);
            List<String> cmd = new ArrayList<>(List.of("node", script.toString(), "--node-dir", nodeDir.toString(),
                    "--tokenizers-dir", tokDir.toString(), "--texts", textsFile.toString(), "--rounds",
                    String.valueOf(rounds)));
            cmd.addAll(names);
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            } catch (IOException e) {
                System.err.println("transformers.js: skipped, cannot run node: " + e.getMessage());
                return Map.of();
            }
            Map<String, Result> out = new LinkedHashMap<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (!line.startsWith("{")) continue;
                    JsonNode j = M.readTree(line);
                    Result res = new Result(j.get("tokenizer").asText(), j.get("tokens").asLong(),
                            j.get("checksum").asInt(), j.get("seconds").asDouble(), j.get("wall_seconds").asDouble());
                    out.put(res.tokenizer, res);
                    System.out.printf("transformers.js  %-26s %9d tokens %7.3f cpu-s %7.3f wall-s %11.0f tokens/s  (%s, node %s)%n",
                            res.tokenizer, res.tokens, res.seconds, res.wallSeconds, res.tokensPerS(),
                            j.get("version").asText(), j.get("node").asText());
                }
            }
            if (!p.waitFor(15, TimeUnit.MINUTES)) p.destroyForcibly();
            else if (p.exitValue() != 0) System.err.println("transformers.js: node exited with " + p.exitValue());
            return out;
        } finally {
            Files.deleteIfExists(textsFile);
        }
    }

    static String table(Map<String, Result> cortado, Map<String, Result> js) {
        StringBuilder sb = new StringBuilder();
        sb.append("| tokenizer | Cortado tokens/s | transformers.js tokens/s | ratio | tokens Cortado / transformers.js | ids |\n");
        sb.append("|---|---:|---:|---:|---|---|\n");
        for (Result c : cortado.values()) {
            Result o = js.get(c.tokenizer);
            if (o == null) {
                sb.append(String.format("| %s | %.0f | n/a | n/a | %d / n/a | n/a |%n", c.tokenizer, c.tokensPerS(), c.tokens));
                continue;
            }
            String counts = c.tokens == o.tokens ? c.tokens + " (same)" : c.tokens + " / " + o.tokens + " DIFFER";
            String ids = c.checksum == o.checksum ? "same" : "DIFFER";
            sb.append(String.format("| %s | %.0f | %.0f | %.2fx | %s | %s |%n", c.tokenizer, c.tokensPerS(),
                    o.tokensPerS(), c.tokensPerS() / o.tokensPerS(), counts, ids));
        }
        return sb.toString();
    }

    /** The description column (the 2nd of 2, or the last) of the TSV, up to {@code maxBytes}. */
    static List<String> texts(Path tsv, long maxBytes) throws IOException {
        List<String> out = new ArrayList<>();
        long n = 0;
        List<String> lines = Files.readAllLines(tsv);
        for (String line : lines.subList(1, lines.size())) { // skip the header
            String[] cols = line.split("\t");
            String d = cols[0].length() > cols[cols.length - 1].length() ? cols[0] : cols[cols.length - 1];
            d = d.replace("\\n", "\n");
            out.add(d);
            n += d.length();
            if (n >= maxBytes) break;
        }
        return out;
    }
}
