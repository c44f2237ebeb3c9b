package dev.cortado.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cortado.runtime.Cortado;
import dev.cortado.CortadoException;
import dev.cortado.device.Device;
import dev.cortado.engine.Seq2Seq;
import dev.cortado.generate.DecoderSession;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.generate.LanguageModel;
import dev.cortado.registry.Families;
import dev.cortado.tensor.DType;
import dev.cortado.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutation fuzzing of model files through the public entry points: stories260K (safetensors and ONNX, with its
 * tokenizer, through {@link Cortado#open} and a few generated tokens) and the tiny decoder/seq2seq fixtures (through
 * {@link Families}, a few decode steps). Each mutant must load and run cleanly or fail with a one-line
 * {@link CortadoException} that is not an "internal error", within 5 s. Seeded: {@code -Dcortado.fuzz.seed=N} and
 * {@code -Dcortado.fuzz.scale=F} (case count multiplier) reproduce or widen a run; failures print seed and case.
 */
class ModelFilesFuzzTest {
    static final long SEED = Long.getLong("cortado.fuzz.seed", 20261206L);
    static final double SCALE = Double.parseDouble(System.getProperty("cortado.fuzz.scale", "1"));
    static final long CASE_LIMIT_MS = 5_000;
    static final boolean VERBOSE = Boolean.getBoolean("cortado.fuzz.verbose");
    static final String[] DECODERS = {"tiny-gpt2", "tiny-llama", "tiny-llama-scaled", "tiny-qwen2", "tiny-mistral"};
    static final String[] SEQ2SEQ = {"tiny-t5", "tiny-flan-t5", "tiny-bart", "tiny-marian"};

    @TempDir
    static Path tmp;

    static ExecutorService worker;

    @BeforeAll
    static void start() {
        worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-case");
            t.setDaemon(true);
            return t;
        });
    }

    @AfterAll
    static void stop() {
        worker.shutdownNow();
    }

    /** A model folder as file name → bytes, the kind of run it gets, and the entry it opens. */
    record Fixture(String name, Map<String, byte[]> files, Kind kind) {}

    enum Kind { STORIES, DECODER, SEQ2SEQ }

    /** Which file of a fixture a case mutates, and how. */
    enum Target { CONFIG, GENERATION_CONFIG, SAFETENSORS_HEADER_BYTES, SAFETENSORS_HEADER_JSON, SAFETENSORS_TENSOR, SAFETENSORS_DATA, ONNX }

    record Plan(Fixture fixture, Target target, int cases) {}

    @Test
    void modelFilesFailCleanlyOrRun() throws Exception {
        List<Plan> plans = plans();
        List<String> findings = new ArrayList<>();
        Map<String, Integer> outcomes = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        int index = 0;
        Map<String, Double> seconds = new LinkedHashMap<>();
        for (Plan p : plans) {
            long tp = System.nanoTime();
            for (int i = 0; i < p.cases; i++, index++) {
                long caseSeed = SEED * 1_000_003L + index;
                Mutations m = new Mutations(caseSeed);
                Path dir = tmp.resolve("case-" + index);
                String what = mutate(p, m, dir);
                String where = "seed " + SEED + " case " + index + " (" + p.fixture.name + ", " + p.target + ": " + what + ")";
                // a safetensors header mutant that still loads must not have changed any weight: same output
                String expected = switch (p.target) {
                    case SAFETENSORS_HEADER_BYTES, SAFETENSORS_HEADER_JSON, SAFETENSORS_TENSOR -> baseline(p.fixture, p.target);
                    default -> null;
                };
                long tc = System.nanoTime();
                String outcome = run(p.fixture, p.target, dir, where, findings, expected);
                long ms = (System.nanoTime() - tc) / 1_000_000;
                outcomes.merge(p.fixture.name + " " + p.target + " " + outcome, 1, Integer::sum);
                if (VERBOSE) System.out.println(outcome + " in " + ms + " ms: " + where);
                delete(dir);
            }
            seconds.merge(p.fixture.name + " " + p.target, (System.nanoTime() - tp) / 1e9, Double::sum);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("model files fuzz: %d cases in %.1f s, seed %d%n", index, secs, SEED);
        outcomes.forEach((k, v) -> System.out.println("  " + k + ": " + v));
        seconds.forEach((k, v) -> System.out.printf("  %s: %.1f s%n", k, v));
        if (!findings.isEmpty()) fail(findings.size() + " findings:\n" + String.join("\n", findings.subList(0, Math.min(25, findings.size()))));
        assertTrue(index >= 1000, "ran " + index + " cases");
    }

    // ------------------------------------------------------------------ the cases

    static List<Plan> plans() throws IOException {
        List<Plan> out = new ArrayList<>();
        Path root = dev.cortado.SharedPaths.root();
        Path stories = root == null ? null : root.resolve("models/stories260K");
        if (stories != null && Files.isDirectory(stories)) {
            Fixture st = new Fixture("stories260K", read(stories, "config.json", "generation_config.json", "tokenizer.json", "model.safetensors"), Kind.STORIES);
            Fixture onnx = new Fixture("stories260K-onnx", read(stories, "config.json", "generation_config.json", "tokenizer.json",
                    "onnx/model.onnx"), Kind.STORIES);
            out.add(new Plan(st, Target.CONFIG, n(350)));
            out.add(new Plan(st, Target.GENERATION_CONFIG, n(200)));
            out.add(new Plan(st, Target.SAFETENSORS_HEADER_BYTES, n(350)));
            out.add(new Plan(st, Target.SAFETENSORS_HEADER_JSON, n(350)));
            out.add(new Plan(st, Target.SAFETENSORS_TENSOR, n(300)));
            out.add(new Plan(st, Target.SAFETENSORS_DATA, n(100)));
            out.add(new Plan(onnx, Target.CONFIG, n(100)));
            out.add(new Plan(onnx, Target.ONNX, n(500)));
        }
        for (String d : DECODERS) {
            Fixture f = new Fixture(d, read(Fixtures.ROOT.resolve(d), "config.json", "model.safetensors"), Kind.DECODER);
            Fixture o = new Fixture(d + "-onnx", read(Fixtures.ROOT.resolve(d), "config.json", "model.onnx"), Kind.DECODER);
            out.add(new Plan(f, Target.CONFIG, n(160)));
            out.add(new Plan(f, Target.SAFETENSORS_HEADER_JSON, n(60)));
            out.add(new Plan(f, Target.SAFETENSORS_TENSOR, n(80)));
            out.add(new Plan(o, Target.CONFIG, n(50)));
            out.add(new Plan(o, Target.ONNX, n(70)));
        }
        for (String d : SEQ2SEQ) {
            Fixture f = new Fixture(d, read(Fixtures.ROOT.resolve(d), "config.json", "model.safetensors"), Kind.SEQ2SEQ);
            Fixture o = new Fixture(d + "-onnx", read(Fixtures.ROOT.resolve(d), "config.json", "encoder_model.onnx", "decoder_model.onnx"), Kind.SEQ2SEQ);
            out.add(new Plan(f, Target.CONFIG, n(150)));
            out.add(new Plan(f, Target.SAFETENSORS_HEADER_JSON, n(60)));
            out.add(new Plan(f, Target.SAFETENSORS_TENSOR, n(80)));
            out.add(new Plan(o, Target.CONFIG, n(40)));
            out.add(new Plan(o, Target.ONNX, n(50)));
        }
        return out;
    }

    static int n(int cases) {
        return Math.max(1, (int) Math.round(cases * SCALE));
    }

    /** Writes the fixture into {@code dir} with one file mutated; returns what was done. */
    static String mutate(Plan p, Mutations m, Path dir) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>(p.fixture.files);
        String what = switch (p.target) {
            case CONFIG -> json(files, "config.json", m);
            case GENERATION_CONFIG -> json(files, "generation_config.json", m);
            case SAFETENSORS_HEADER_BYTES -> {
                byte[] st = files.get("model.safetensors");
                int header = (int) SafetensorsMutants.headerLength(st);
                byte[] head = java.util.Arrays.copyOf(st, 8 + header);
                byte[] mutated = m.bytes(head, new int[] {0, 8, 8 + header});
                files.put("model.safetensors", SafetensorsMutants.concat(mutated, java.util.Arrays.copyOfRange(st, 8 + header, st.length)));
                yield m.lastDescription();
            }
            case SAFETENSORS_HEADER_JSON -> {
                files.put("model.safetensors", SafetensorsMutants.header(files.get("model.safetensors"), m));
                yield m.lastDescription();
            }
            case SAFETENSORS_TENSOR -> {
                SafetensorsMutants.Mutant mt = SafetensorsMutants.tensor(files.get("model.safetensors"), m);
                files.put("model.safetensors", mt.bytes());
                yield mt.what();
            }
            case SAFETENSORS_DATA -> {
                byte[] st = files.get("model.safetensors");
                int start = 8 + (int) SafetensorsMutants.headerLength(st);
                byte[] data = java.util.Arrays.copyOfRange(st, start, st.length);
                byte[] mutated = m.bytes(data);
                files.put("model.safetensors", SafetensorsMutants.concat(java.util.Arrays.copyOf(st, start), mutated));
                yield m.lastDescription();
            }
            case ONNX -> {
                List<String> onnx = files.keySet().stream().filter(k -> k.endsWith(".onnx")).toList();
                String f = onnx.get(m.random().nextInt(onnx.size()));
                files.put(f, m.bytes(files.get(f), tensorHeaders(files.get(f))));
                yield f + ": " + m.lastDescription();
            }
        };
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            Path f = dir.resolve(e.getKey());
            Files.createDirectories(f.getParent());
            Files.write(f, e.getValue());
        }
        return what;
    }

    /** One JSON mutation, or (a quarter of the cases) two or three stacked ones. */
    static String json(Map<String, byte[]> files, String name, Mutations m) {
        String text = new String(files.get(name), java.nio.charset.StandardCharsets.UTF_8);
        int rounds = m.random().nextInt(4) == 0 ? 2 + m.random().nextInt(2) : 1;
        List<String> what = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            text = m.json(text);
            what.add(m.lastDescription());
        }
        files.put(name, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return String.join(" + ", what);
    }

    /** Loads and runs one mutant on the worker thread; records a finding for anything but a clean outcome. */
    static String run(Fixture f, Target target, Path dir, String where, List<String> findings, String expected) throws InterruptedException {
        Future<String> job = worker.submit(() -> exercise(f, target, dir));
        try {
            String got = job.get(CASE_LIMIT_MS, TimeUnit.MILLISECONDS);
            if (expected != null && !expected.equals(got)) findings.add(where + ": ran but gave other output than the unmodified model (silently wrong)");
            return "ran";
        } catch (TimeoutException e) {
            job.cancel(true);
            findings.add(where + ": took more than " + CASE_LIMIT_MS + " ms");
            // the stuck thread cannot be stopped: replace the worker so later cases still run
            worker.shutdownNow();
            start();
            return "timeout";
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof CortadoException ce) {
                String msg = String.valueOf(ce.getMessage());
                if (msg.contains("\n") || msg.contains("\r")) findings.add(where + ": multi-line message: " + msg.replace("\n", "\\n"));
                else if (msg.toLowerCase().contains("internal error")) findings.add(where + ": " + msg);
                else if (msg.isBlank()) findings.add(where + ": empty message");
                return "CortadoException";
            }
            StackTraceElement top = c.getStackTrace().length > 0 ? c.getStackTrace()[0] : null;
            findings.add(where + ": " + c + " at " + top);
            return c.getClass().getSimpleName();
        }
    }

    /**
     * The public path a user takes; returns a fingerprint of the output. stories260K's config and generation config
     * mutants go through {@link Cortado#open} and three generated tokens (tokenizer, generation_config.json, facade);
     * its weight-file mutants, like the tiny fixtures, through {@link Families} (the loader behind it) and two steps.
     */
    static String exercise(Fixture f, Target target, Path dir) {
        Kind kind = f.kind == Kind.STORIES && target != Target.CONFIG && target != Target.GENERATION_CONFIG ? Kind.DECODER : f.kind;
        switch (kind) {
            case STORIES -> {
                try (Cortado rt = Cortado.open(dir)) {
                    GenerationConfig g = rt.generationConfig().toBuilder().maxNewTokens(3).numBeams(1).numReturnSequences(1).build();
                    return java.util.Arrays.toString(rt.generator(g).generate("Once upon a time").ids());
                }
            }
            case DECODER -> {
                Path model = Files.isRegularFile(dir.resolve("model.onnx")) ? dir.resolve("model.onnx") : dir;
                try (LanguageModel lm = Families.openDecoder(model, Device.cpu(), DType.F32, Families.Engine.CORTADO);
                     DecoderSession s = lm.newSession(1)) {
                    float[] logits = s.step(new int[][] {{1, 2, 3}}, null)[0];
                    return java.util.Arrays.hashCode(logits) + "/" + java.util.Arrays.hashCode(s.step(new int[][] {{argmax(logits)}}, null)[0]);
                }
            }
            case SEQ2SEQ -> {
                try (Seq2Seq m = Families.openSeq2Seq(dir, Device.cpu(), DType.F32, Families.Engine.CORTADO)) {
                    LanguageModel lm = m.bind(m.encode(new int[][] {{4, 5, 6, 1}}, new boolean[][] {{true, true, true, true}}), 1);
                    try (DecoderSession s = lm.newSession(1)) {
                        float[] logits = s.step(new int[][] {{0}}, null)[0];
                        return java.util.Arrays.hashCode(logits) + "/" + java.util.Arrays.hashCode(s.step(new int[][] {{argmax(logits)}}, null)[0]);
                    }
                }
            }
            default -> throw new IllegalStateException();
        }
    }

    /**
     * Offsets of likely TensorProto data_type fields (tag 0x10 with a float/int type code right after a dims varint):
     * half of the positional ONNX mutations land there, relabelling dtypes and resizing dims of initializers.
     */
    static int[] tensorHeaders(byte[] onnx) {
        List<Integer> out = new ArrayList<>();
        for (int i = 3; i + 1 < onnx.length && out.size() < 4096; i++) {
            int code = onnx[i + 1];
            if (onnx[i] == 0x10 && (code == 1 || code == 6 || code == 7 || code == 10 || code == 11 || code == 16)
                    && (onnx[i - 2] == 0x08 || onnx[i - 3] == 0x08)) {
                out.add(i + 1);
                out.add(i - 1);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    static final Map<String, String> BASELINES = new java.util.HashMap<>();

    /** The unmodified fixture's output fingerprint. */
    static String baseline(Fixture f, Target target) throws IOException {
        String key = f.name + " " + target;
        if (!BASELINES.containsKey(key)) {
            Path dir = tmp.resolve("baseline-" + f.name + "-" + target);
            for (Map.Entry<String, byte[]> e : f.files.entrySet()) {
                Files.createDirectories(dir.resolve(e.getKey()).getParent());
                Files.write(dir.resolve(e.getKey()), e.getValue());
            }
            BASELINES.put(key, exercise(f, target, dir));
        }
        return BASELINES.get(key);
    }

    static int argmax(float[] a) {
        int b = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
        return b;
    }

    static Map<String, byte[]> read(Path dir, String... names) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (String n : names) out.put(n, Files.readAllBytes(dir.resolve(n)));
        return out;
    }

    static void delete(Path dir) {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
