package dev.cortado.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.SharedPaths;
import dev.cortado.tokenizer.ChatTemplate;
import dev.cortado.tokenizer.Encoding;
import dev.cortado.tokenizer.StreamingDecoder;
import dev.cortado.tokenizer.Tokenizer;
import dev.cortado.tokenizer.TokenizerCommands;
import dev.cortado.tokenizer.TokenizerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutation fuzzing of tokenizer files and text (#18): tokenizer.json (the real files under ../shared, trimmed to
 * a small vocab so that a mutant loads fast, Cortado's own models' and a synthetic one with every component type;
 * the text cases run on the same trimmed files: same pipelines, more unknown/byte-fallback paths),
 * tokenizer_config.json, chat templates (source mutations), messages (JSON mutations, through the CLI entry point),
 * and stdin-like hostile text through every real tokenizer (encode, decode, streaming decode, random ids). Every
 * case must end in a result or a one-line {@link CortadoException} without "internal error", within 5 s.
 * Seeded and reproducible: {@code -Dcortado.fuzz.seed=N}, {@code -Dcortado.fuzz.scale=F}; failures print seed,
 * case, target and the mutations applied.
 */
class TokenizerFilesFuzzTest {
    static final long SEED = Long.getLong("cortado.fuzz.seed", 20261206L);
    static final double SCALE = Double.parseDouble(System.getProperty("cortado.fuzz.scale", "1"));
    /** Per case: 5 s of CPU time; the wall-clock limit is looser so that a loaded machine does not fail it. */
    static final long CASE_LIMIT_MS = 5_000, CASE_WALL_LIMIT_MS = 60_000;
    static final ObjectMapper M = new ObjectMapper();
    static final String[] REAL = {"bert-base-uncased", "flan-t5-small", "gpt2", "phi-3-mini-4k-instruct", "qwen3",
        "roberta-base", "t5-small", "tinyllama-1.1b-chat-v1.0", "whisper-tiny"};

    /** Every component type in one small file (normalizers, pre-tokenizers, post-processor, decoders, truncation, padding). */
    static final String KITCHEN_SINK = """
        {"version":"1.0","truncation":{"max_length":64,"stride":0,"strategy":"LongestFirst","direction":"Right"},
         "padding":{"strategy":{"Fixed":8},"direction":"Right","pad_to_multiple_of":4,"pad_id":0,"pad_type_id":0,"pad_token":"<pad>"},
         "added_tokens":[{"id":0,"content":"<pad>","special":true},{"id":9,"content":"<x>","lstrip":true,"rstrip":true,"single_word":true,"normalized":false,"special":true}],
         "normalizer":{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Replace","pattern":{"Regex":" {2,}"},"content":" "},
           {"type":"Replace","pattern":{"String":"``"},"content":"\\""},{"type":"Lowercase"},{"type":"Strip","strip_left":true,"strip_right":true},
           {"type":"StripAccents"},{"type":"Nmt"},{"type":"Prepend","prepend":"▁"},{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true}]},
         "pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\\\s+(?!\\\\S)|[\\\\p{L}\\\\p{N}]+|(a+)+$"},"behavior":"Isolated","invert":false},
           {"type":"Digits","individual_digits":true},{"type":"Punctuation","behavior":"Contiguous"},{"type":"Whitespace"},{"type":"WhitespaceSplit"},
           {"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true},{"type":"BertPreTokenizer"}]},
         "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<x>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
           "pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],"special_tokens":{"<x>":{"id":"<x>","ids":[9],"tokens":["<x>"]}}},
         "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},
           {"type":"Strip","content":" ","start":1,"stop":0},{"type":"Metaspace","replacement":"▁","prepend_scheme":"always"},{"type":"WordPiece","prefix":"##","cleanup":true},
           {"type":"BPEDecoder","suffix":"</w>"},{"type":"ByteLevel"}]},
         "model":{"type":"WordLevel","vocab":{"<pad>":0,"<unk>":1,"▁a":2,"▁b":3,"1":4,"2":5,".":6,"a":7,"b":8},"unk_token":"<unk>"}}
        """;

    @TempDir
    static Path tmp;

    record Finding(long caseSeed, String target, String what, Throwable error) {}

    private ExecutorService worker = newWorker();

    static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tokenizer-fuzz-case");
            t.setDaemon(true);
            return t;
        });
    }

    @Test
    void tokenizerFilesTemplatesAndTextFailCleanlyOrWork() throws Exception {
        long t0 = System.nanoTime();
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        Path shared = SharedPaths.root();
        Map<String, String> jsons = new LinkedHashMap<>(); // small tokenizer.json texts to mutate
        Map<String, Tokenizer> full = new LinkedHashMap<>(); // loaded real tokenizers for text cases
        Map<String, String> configs = new LinkedHashMap<>();
        jsons.put("kitchen-sink", KITCHEN_SINK);
        for (String d : List.of("models/cortado-en-de", "models/cortado-summarize-en")) {
            Path p = Path.of(d, "tokenizer.json");
            if (Files.exists(p)) jsons.put(d, trim(Files.readString(p), 1500));
            Path c = Path.of(d, "tokenizer_config.json");
            if (Files.exists(c)) configs.put(d, Files.readString(c));
        }
        if (shared != null) {
            for (String name : REAL) {
                Path dir = shared.resolve("models/tokenizers/" + name);
                if (!Files.exists(dir.resolve("tokenizer.json"))) continue;
                String text = Files.readString(dir.resolve("tokenizer.json"));
                jsons.put(name, trim(text, 1500));
                if (Files.exists(dir.resolve("tokenizer_config.json")))
                    configs.put(name, Files.readString(dir.resolve("tokenizer_config.json")));
            }
            Path stories = shared.resolve("models/stories260K/tokenizer.json");
            if (Files.exists(stories)) {
                jsons.put("stories260K", Files.readString(stories));
            }
        }
        for (var e : jsons.entrySet()) full.put(e.getKey(), Tokenizer.fromJson(e.getValue()));
        List<String> templates = new ArrayList<>();
        for (String c : configs.values()) {
            JsonNode t = M.readTree(c).get("chat_template");
            if (t != null && t.isTextual()) templates.add(t.textValue());
        }
        templates.add("{% for m in messages %}{{ '<|' + m['role'] + '|>\\n' + m['content'].strip() + '\\n' }}"
                + "{% if m.tool_calls is defined %}{{ m.tool_calls|tojson }}{% endif %}{% endfor %}"
                + "{% if add_generation_prompt %}<|assistant|>\\n{% endif %}");
        long setupMs = (System.nanoTime() - t0) / 1_000_000;

        int n = (int) Math.round(SCALE);
        Map<String, Integer> plan = new LinkedHashMap<>();
        plan.put("tokenizer.json", 1400 * n);
        plan.put("tokenizer.json bytes/file", 200 * n);
        plan.put("tokenizer_config.json", 500 * n);
        plan.put("chat template", 700 * n);
        plan.put("messages", 500 * n);
        plan.put("text", 1200 * n);  // with ModelFilesFuzzTest (~5,870) over 10,000 cases per CI run

        List<Finding> findings = new ArrayList<>();
        Map<String, int[]> outcomes = new LinkedHashMap<>(); // target -> {ok, CortadoException}
        long caseIndex = 0;
        List<String> jsonNames = new ArrayList<>(jsons.keySet()), fullNames = new ArrayList<>(full.keySet()),
                configNames = new ArrayList<>(configs.keySet());
        for (var e : plan.entrySet()) {
            String target = e.getKey();
            int[] out = outcomes.computeIfAbsent(target, k -> new int[2]);
            for (int i = 0; i < e.getValue(); i++, caseIndex++) {
                long caseSeed = SEED * 1_000_003L + caseIndex;
                Mutations m = new Mutations(caseSeed);
                StringBuilder what = new StringBuilder();
                Runnable body = switch (target) {
                    case "tokenizer.json" -> () -> tokenizerJsonCase(m, jsons, jsonNames, what, false);
                    case "tokenizer.json bytes/file" -> () -> tokenizerJsonCase(m, jsons, jsonNames, what, true);
                    case "tokenizer_config.json" -> () -> configCase(m, configs, configNames, what);
                    case "chat template" -> () -> templateCase(m, templates, what);
                    case "messages" -> () -> messagesCase(m, configs, configNames, what);
                    default -> () -> textCase(m, full, fullNames, what);
                };
                Throwable err = runCase(body);
                if (err == null) {
                    out[0]++;
                } else if (err instanceof CortadoException ce && clean(ce.getMessage())) {
                    out[1]++;
                } else {
                    findings.add(new Finding(caseSeed, target, what.toString(), err));
                }
            }
        }
        long totalMs = (System.nanoTime() - t0) / 1_000_000;
        StringBuilder summary = new StringBuilder("tokenizer fuzz: seed " + SEED + ", " + caseIndex + " cases in "
                + totalMs + " ms wall, " + (os.getProcessCpuTime() - cpu0) / 1_000_000 + " ms process CPU (setup "
                + setupMs + " ms):");
        outcomes.forEach((k, v) -> summary.append(" ").append(k).append(" ").append(v[0]).append(" ok/")
                .append(v[1]).append(" rejected;"));
        summary.append(" findings ").append(findings.size());
        Map<String, Integer> kinds = new LinkedHashMap<>();
        for (Finding f : findings) {
            String where = "";
            for (StackTraceElement st : f.error.getStackTrace()) {
                if (st.getClassName().startsWith("dev.cortado") && !st.getClassName().contains("Fuzz")) {
                    where = st.toString();
                    break;
                }
            }
            kinds.merge(f.target + " " + f.error.getClass().getSimpleName() + " " + where, 1, Integer::sum);
        }
        kinds.forEach((k, v) -> summary.append("\n  ").append(v).append(" x ").append(k));
        System.out.println(summary);
        StringBuilder report = new StringBuilder();
        for (Finding f : findings.subList(0, Math.min(15, findings.size()))) {
            report.append("\n  case seed ").append(f.caseSeed).append(" [").append(f.target).append("] ")
                    .append(f.what.length() > 300 ? f.what.substring(0, 300) + "…" : f.what).append("\n    -> ")
                    .append(f.error);
            for (StackTraceElement st : f.error.getStackTrace()) {
                if (st.getClassName().startsWith("dev.cortado")) {
                    report.append("\n       at ").append(st);
                    break;
                }
            }
        }
        assertTrue(findings.isEmpty(), summary.toString() + report);
    }

    /** One line, no "internal error". */
    static boolean clean(String message) {
        return message != null && !message.isEmpty() && !message.contains("\n") && !message.contains("\r")
                && !message.toLowerCase(java.util.Locale.ROOT).contains("internal error");
    }

    private Throwable runCase(Runnable body) throws InterruptedException {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        Future<Long> f = worker.submit(() -> {
            long c0 = mx.getCurrentThreadCpuTime();
            try {
                body.run();
            } finally {
                long ms = (mx.getCurrentThreadCpuTime() - c0) / 1_000_000;
                if (ms > CASE_LIMIT_MS) throw new AssertionError("case took " + ms + " ms of CPU (limit " + CASE_LIMIT_MS + ")");
            }
            return 0L;
        });
        try {
            f.get(CASE_WALL_LIMIT_MS, TimeUnit.MILLISECONDS);
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            f.cancel(true);
            worker.shutdownNow();
            worker = newWorker(); // the stuck thread is a daemon; later cases get a fresh one
            return new AssertionError("case hung for over " + CASE_WALL_LIMIT_MS + " ms");
        }
    }

    // ---------------------------------------------------------------------------------------------- cases

    static void tokenizerJsonCase(Mutations m, Map<String, String> jsons, List<String> names, StringBuilder what,
                                  boolean bytes) {
        String name = names.get(m.random().nextInt(names.size()));
        what.append(name).append(':');
        String text = jsons.get(name);
        Tokenizer t;
        if (bytes) {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            for (int k = m.random().nextInt(1, 4); k > 0; k--) {
                b = m.bytes(b);
                what.append(' ').append(m.lastDescription()).append(';');
            }
            try {
                Path p = Files.createTempFile(tmp, "tokenizer", ".json");
                Files.write(p, b);
                t = Tokenizer.fromFile(p);
                Files.deleteIfExists(p);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        } else {
            for (int k = m.random().nextInt(4) == 0 ? m.random().nextInt(2, 4) : 1; k > 0; k--) {
                text = m.json(text);
                what.append(' ').append(m.lastDescription()).append(';');
            }
            t = Tokenizer.fromJson(text);
        }
        exercise(t, m, new HostileText(m, false), what);
    }

    /** Encode (with and without specials, batch), decode, streaming decode, id lookups, random ids. */
    static void exercise(Tokenizer t, Mutations m, HostileText texts, StringBuilder what) {
        List<String> specials = new ArrayList<>();
        for (int id = 0; id < Math.min(t.vocabSize(), 64); id++) {
            String tok = t.idToToken(id);
            if (tok != null && t.isSpecial(id)) specials.add(tok);
        }
        for (int k = 0; k < 2; k++) {
            String s = texts.next(specials);
            what.append(" text[").append(s.length()).append(']');
            Encoding e = t.encode(s, k == 0);
            t.decode(e.ids(), true);
            t.decode(e.ids(), false);
            StreamingDecoder sd = t.streamingDecoder(k == 0);
            for (int id : e.ids()) sd.push(id);
            sd.flush();
            for (String tok : e.tokens()) t.tokenToId(tok == null ? "" : tok);
        }
        t.encodeBatch(List.of("a", texts.next(specials)), true);
        int[] ids = new int[m.random().nextInt(1, 20)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = switch (m.random().nextInt(4)) {
                case 0 -> -1 - m.random().nextInt(1000);
                case 1 -> Integer.MAX_VALUE - m.random().nextInt(3);
                case 2 -> t.vocabSize() + m.random().nextInt(-3, 3);
                default -> m.random().nextInt(Math.max(1, t.vocabSize()));
            };
        }
        t.decode(ids, m.random().nextBoolean());
        StreamingDecoder sd = t.streamingDecoder(false);
        for (int id : ids) sd.push(id);
        sd.flush();
    }

    static void textCase(Mutations m, Map<String, Tokenizer> full, List<String> names, StringBuilder what) {
        String name = names.get(m.random().nextInt(names.size()));
        what.append(name).append(':');
        exercise(full.get(name), m, new HostileText(m, true), what);
    }

    static final List<Map<String, Object>> MESSAGES = List.of(
            Map.of("role", "system", "content", "You are helpful."),
            Map.of("role", "user", "content", "Hi <|im_end|> there </s>"),
            Map.of("role", "assistant", "content", "<think>\nhmm\n</think>\n\nHello!", "reasoning_content", "hmm"),
            Map.of("role", "user", "content", "2+2?"));

    static void configCase(Mutations m, Map<String, String> configs, List<String> names, StringBuilder what) {
        if (names.isEmpty()) return;
        String name = names.get(m.random().nextInt(names.size()));
        String text = m.json(configs.get(name));
        what.append(name).append(": ").append(m.lastDescription());
        TokenizerConfig c = TokenizerConfig.fromJson(text);
        c.bosToken();
        c.eosToken();
        c.padToken();
        c.unkToken();
        c.addBosToken();
        c.modelMaxLength();
        if (c.chatTemplate() != null) c.applyChatTemplate(MESSAGES, m.random().nextBoolean(), Map.of());
    }

    static void templateCase(Mutations m, List<String> templates, StringBuilder what) {
        String t = templates.get(m.random().nextInt(templates.size()));
        TemplateMutations tm = new TemplateMutations(m.random());
        for (int k = m.random().nextInt(1, 4); k > 0; k--) {
            t = tm.mutate(t);
            what.append(' ').append(tm.lastDescription()).append(';');
        }
        Map<String, Object> vars = new HashMap<>();
        vars.put("bos_token", "<s>");
        vars.put("eos_token", "</s>");
        vars.put("tools", List.of(Map.of("type", "function", "function", Map.of("name", "f", "parameters", Map.of()))));
        new ChatTemplate(t).render(MESSAGES, m.random().nextBoolean(), vars);
    }

    static void messagesCase(Mutations m, Map<String, String> configs, List<String> names, StringBuilder what) {
        List<String> withTemplate = new ArrayList<>();
        for (String n : names) if (configs.get(n).contains("chat_template")) withTemplate.add(n);
        if (withTemplate.isEmpty()) return;
        String name = withTemplate.get(m.random().nextInt(withTemplate.size()));
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("messages", MESSAGES);
        doc.put("add_generation_prompt", true);
        doc.put("enable_thinking", false);
        doc.put("tools", List.of(Map.of("type", "function", "function", Map.of("name", "get_weather",
                "description", "d", "parameters", Map.of("type", "object", "properties", Map.of())))));
        String text;
        try {
            text = M.writeValueAsString(doc);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        for (int k = m.random().nextInt(1, 4); k > 0; k--) {
            text = m.json(text);
            what.append(' ').append(m.lastDescription()).append(';');
        }
        what.insert(0, name + ":");
        try {
            Path cfg = Files.createTempFile(tmp, "tokenizer_config", ".json");
            Files.writeString(cfg, configs.get(name));
            Path msgs = Files.createTempFile(tmp, "messages", ".json");
            Files.writeString(msgs, text);
            TokenizerCommands.chatTemplate(cfg, msgs);
            Files.deleteIfExists(cfg);
            Files.deleteIfExists(msgs);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------------------------------------- fixtures

    /**
     * A real tokenizer.json cut to its first {@code keep} vocab ids (merges among them; added tokens past the model
     * renumbered after them, and the post-processor's ids with them), so that a mutant parses in milliseconds.
     */
    static String trim(String json, int keep) throws java.io.IOException {
        ObjectNode root = (ObjectNode) M.readTree(json);
        ObjectNode model = (ObjectNode) root.get("model");
        JsonNode vocab = model.get("vocab");
        java.util.Set<String> kept = new java.util.HashSet<>();
        int size;
        if (vocab.isObject()) {
            ObjectNode v = M.createObjectNode();
            for (var e : vocab.properties()) {
                if (e.getValue().asInt() < keep) {
                    v.set(e.getKey(), e.getValue());
                    kept.add(e.getKey());
                }
            }
            model.set("vocab", v);
            size = v.size();
        } else {
            ArrayNode v = M.createArrayNode();
            for (int i = 0; i < Math.min(keep, vocab.size()); i++) v.add(vocab.get(i));
            model.set("vocab", v);
            size = v.size();
            if (model.has("unk_id") && model.get("unk_id").asInt() >= size) model.put("unk_id", 0);
        }
        if (model.has("merges")) {
            ArrayNode merges = M.createArrayNode();
            for (JsonNode mg : model.get("merges")) {
                String a, b;
                if (mg.isTextual()) {
                    int sp = mg.textValue().indexOf(' ');
                    if (sp < 0 || mg.textValue().indexOf(' ', sp + 1) >= 0) continue;
                    a = mg.textValue().substring(0, sp);
                    b = mg.textValue().substring(sp + 1);
                } else {
                    a = mg.get(0).asText();
                    b = mg.get(1).asText();
                }
                if (kept.contains(a) && kept.contains(b) && kept.contains(a + b)) merges.add(mg);
            }
            model.set("merges", merges);
        }
        Map<Integer, Integer> remap = new HashMap<>();
        if (root.get("added_tokens") instanceof ArrayNode added) {
            int next = size;
            for (JsonNode t : added) {
                int id = t.get("id").asInt();
                if (id >= keep) {
                    remap.put(id, next);
                    ((ObjectNode) t).put("id", next++);
                }
            }
        }
        if (root.get("post_processor") != null) remapIds(root.get("post_processor"), remap, keep);
        return M.writeValueAsString(root);
    }

    private static void remapIds(JsonNode n, Map<Integer, Integer> remap, int keep) {
        if (n instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                JsonNode x = a.get(i);
                if (x.isIntegralNumber() && x.asInt() >= keep) a.set(i, M.getNodeFactory().numberNode(
                        remap.getOrDefault(x.asInt(), 0)));
                else remapIds(x, remap, keep);
            }
        } else if (n instanceof ObjectNode o) {
            for (var e : o.properties()) remapIds(e.getValue(), remap, keep);
        }
    }
}
