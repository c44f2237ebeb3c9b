package dev.cortado.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.backend.cpu.WorkerPool;
import dev.cortado.bench.GenerateBench.EngineResult;
import dev.cortado.bench.GenerateBench.Run;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Python competitors in {@code bench/competitors/} (HF transformers eager and static cache + torch.compile,
 * onnxruntime Python), run as subprocesses on the same folder and the same token ids; each prints one JSON line.
 * The Python is {@code $CORTADO_PYTHON}, else {@code /work/venv-ref/bin/python}, else {@code python3}, whichever
 * can import torch; without one the competitors are skipped with a note.
 */
final class Competitors {
    private final String python;
    private final Path scripts;

    private Competitors(String python, Path scripts) {
        this.python = python;
        this.scripts = scripts;
    }

    /** mode: "auto" (use when found), "off". Null when none is usable (a note says why). */
    static Competitors find(String mode, List<String> notes) {
        if (mode.equals("off")) {
            notes.add("python competitors not run (--python off)");
            return null;
        }
        Path scripts = scriptsDir();
        if (scripts == null) {
            notes.add("python competitors skipped: bench/competitors/ not found (run from the project folder)");
            return null;
        }
        List<String> candidates = new ArrayList<>();
        String env = System.getenv("CORTADO_PYTHON");
        if (env != null && !env.isBlank()) candidates.add(env);
        if (Files.isExecutable(Path.of("/work/venv-ref/bin/python"))) candidates.add("/work/venv-ref/bin/python");
        candidates.add("python3");
        for (String p : candidates) {
            if (works(p, "import torch, transformers, onnxruntime")) return new Competitors(p, scripts);
        }
        notes.add("python competitors skipped: no python with torch, transformers and onnxruntime (tried " + candidates
                + "; set CORTADO_PYTHON)");
        return null;
    }

    static Path scriptsDir() {
        List<Path> roots = new ArrayList<>();
        roots.add(Path.of("").toAbsolutePath());
        try {
            Path code = Path.of(Competitors.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            // target/classes or target/cortado.jar -> project root
            roots.add(code.getParent().getParent());
        } catch (URISyntaxException | RuntimeException e) {
            // unknown code source: cwd only
        }
        for (Path r : roots) {
            Path d = r.resolve("bench/competitors");
            if (Files.isRegularFile(d.resolve("hf_generate.py"))) return d;
        }
        return null;
    }

    private static boolean works(String python, String code) {
        try {
            Process p = new ProcessBuilder(python, "-c", code).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    EngineResult run(String engine, Path model, GenerateBench.Options o, Map<Integer, int[][]> prompts, List<String> notes) {
        ObjectMapper om = new ObjectMapper();
        Path req = null, log = null;
        try {
            req = Files.createTempFile("cortado-bench-request", ".json");
            log = Files.createTempFile("cortado-bench-" + engine, ".log");
            ObjectNode r = om.createObjectNode();
            ObjectNode ps = r.putObject("prompts");
            prompts.forEach((b, p) -> ps.set(Integer.toString(b), om.valueToTree(p)));
            r.put("gen_len", o.genLen()).put("warmup", o.warmup()).put("repeats", o.repeats());
            Files.writeString(req, r.toString());
            List<String> cmd = new ArrayList<>(List.of(python, "-u"));
            switch (engine) {
                case "hf-eager" -> cmd.addAll(List.of(scripts.resolve("hf_generate.py").toString(), "--mode", "eager"));
                case "hf-compile" -> cmd.addAll(List.of(scripts.resolve("hf_generate.py").toString(), "--mode", "compile"));
                case "ort-python" -> cmd.add(scripts.resolve("ort_generate.py").toString());
                default -> throw new IllegalArgumentException("unknown engine " + engine);
            }
            cmd.addAll(List.of("--model", model.toString(), "--request", req.toString(),
                    "--threads", Integer.toString(WorkerPool.shared().threads()),
                    "--device", o.cuda() ? "cuda:" + o.device().index() : "cpu",
                    "--dtype", switch (o.dtype()) { case F16 -> "float16"; case BF16 -> "bfloat16"; default -> "float32"; }));
            Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
            String stdout = new String(p.getInputStream().readAllBytes());
            long limit = o.smoke() ? 10 : 30;
            if (!p.waitFor(limit, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                notes.add(engine + " timed out after " + limit + " min");
                return null;
            }
            String line = stdout.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElse(null);
            if (p.exitValue() != 0 || line == null) {
                List<String> tail = Files.readAllLines(log);
                String why = tail.isEmpty() ? "no output" : String.join(" / ", tail.subList(Math.max(0, tail.size() - 3), tail.size()));
                notes.add(engine + " failed (exit " + p.exitValue() + "): " + why);
                return null;
            }
            JsonNode j = om.readTree(line);
            Map<Integer, List<Run>> runs = new LinkedHashMap<>();
            for (JsonNode res : j.get("results")) {
                int b = res.get("batch").asInt();
                int[][] tokens = om.convertValue(res.get("tokens"), int[][].class);
                List<Run> list = new ArrayList<>();
                for (JsonNode run : res.get("runs")) {
                    long[] steps = new long[run.get("step_s").size()];
                    for (int i = 0; i < steps.length; i++) steps[i] = (long) (run.get("step_s").get(i).asDouble() * 1e9);
                    list.add(new Run(tokens, 0, (long) (run.get("prefill_s").asDouble() * 1e9), steps));
                }
                runs.put(b, list);
            }
            if (j.has("versions")) notes.add(engine + " versions: " + j.get("versions"));
            return new EngineResult(engine, j.get("load_s").asDouble(), j.get("peak_rss_mb").asDouble(), j.path("rss_before_load_mb").asDouble(Double.NaN), runs, null);
        } catch (IOException e) {
            notes.add(engine + " failed: " + e.getMessage());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            try {
                if (req != null) Files.deleteIfExists(req);
                if (log != null) Files.deleteIfExists(log);
            } catch (IOException e) {
                // temp files
            }
        }
    }
}
