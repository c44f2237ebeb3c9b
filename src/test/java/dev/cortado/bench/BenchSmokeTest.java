package dev.cortado.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.cli.Main;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every bench scenario in --smoke mode (tiny shapes, one run, no timing assertions) writes a JSON, a Markdown and PNGs that parse. */
class BenchSmokeTest {
    @TempDir static Path cache;
    @TempDir Path out;

    @BeforeAll
    static void quiet() {
        System.setProperty("cortado.cache", cache.toString());
        System.setProperty("cortado.bench.quiet", "true");
        System.setProperty("java.awt.headless", "true");
    }

    @ParameterizedTest
    @ValueSource(strings = {"generate", "generate synthetic:llama-3.2-1b", "generate synthetic:qwen2-0.5b", "embed", "kernels",
            "translate", "serve"})
    void scenarioWritesReports(String what) throws Exception {
        String[] w = what.split(" ");
        List<String> args = new java.util.ArrayList<>(List.of("bench", w[0], "--smoke", "--out", out.toString()));
        if (w.length > 1) args.addAll(List.of("--model", w[1]));
        if (w[0].equals("translate")) args.add("--op-profile");   // the op timer wraps Cortado's backend: same tokens
        StringWriter so = new StringWriter(), se = new StringWriter();
        int rc = Main.run(args.toArray(String[]::new), new PrintWriter(so, true), new PrintWriter(se, true));
        assertEquals(0, rc, "stdout: " + so + "\nstderr: " + se);
        List<Path> files;
        try (Stream<Path> s = Files.list(out)) {
            files = s.sorted().toList();
        }
        Path json = files.stream().filter(p -> p.toString().endsWith("-" + w[0] + ".json")).findFirst().orElseThrow();
        Path md = files.stream().filter(p -> p.toString().endsWith("-" + w[0] + ".md")).findFirst().orElseThrow();
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertEquals(w[0], root.get("scenario").asText());
        assertTrue(Files.readString(md).startsWith("# cortado bench " + w[0]));
        List<Path> pngs = files.stream().filter(p -> p.toString().endsWith(".png")).toList();
        assertFalse(root.get("rows").isEmpty(), "rows in " + json);
        assertTrue(Files.readString(md).contains("| engine |") || Files.readString(md).contains("| kernel |")
                || Files.readString(md).contains("| system |"));
        assertFalse(pngs.isEmpty(), "PNG charts in " + files);
        for (Path p : pngs) {
            BufferedImage img = ImageIO.read(p.toFile());
            assertNotNull(img, p + " is not a PNG");
            assertTrue(img.getWidth() >= 600 && img.getHeight() >= 300);
        }
        if (w[0].equals("translate")) {
            assertTrue(so.toString().contains("op profile, cortado beam 1 batch 1") && so.toString().contains("linear m=1 k192 n8000"),
                    "op profile table expected in: " + so);
            for (JsonNode r : root.get("rows")) {
                String t = r.get("tokens").asText();
                assertTrue(t.equals("reference") || t.equals("same"), r.get("engine") + " " + r + ": " + t);
            }
        }
        if (w[0].equals("serve")) {
            java.util.Set<String> systems = new java.util.HashSet<>();
            for (JsonNode r : root.get("rows")) {
                String t = r.get("tokens").asText();
                assertTrue(t.equals("reference") || t.equals("same"), r.get("system") + " at " + r.get("load") + ": " + t);
                assertTrue(r.get("tok/s").asDouble() > 0, r.toString());
                assertEquals(0, r.get("failed").asInt(), r.toString());
                assertTrue(r.get("KV blocks peak").asInt() > 0, r.toString());
                systems.add(r.get("system").asText());
            }
            assertEquals(java.util.Set.of("engine", "static", "one-at-a-time"), systems);
            JsonNode stat = root.get("rows").get(1);
            assertEquals("static", stat.get("system").asText());
            assertEquals(2, stat.get("batches").asInt(), "3 streams, 6 requests: two full batches of 3 " + stat);
            assertEquals(2 * 3, root.get("rows").size(), "closed and open loop, three systems each");
        }
        if (w[0].equals("generate")) {
            int engines = 0;
            for (JsonNode r : root.get("rows")) {
                String t = r.get("tokens").asText();
                assertTrue(t.equals("reference") || t.equals("same"), r.get("engine") + " batch " + r.get("batch") + ": " + t);
                assertTrue(r.get("decode tok/s").asDouble() > 0);
                engines++;
            }
            assertTrue(engines >= 2);
            assertTrue(root.get("bandwidth").get("read_GBps").asDouble() > 0);
        }
    }

    /**
     * --rounds 2: each engine runs in two rounds; the table pools both rounds' runs; a ratio per round and their median;
     * a read-bandwidth probe per round and each engine's roofline % against it.
     */
    @org.junit.jupiter.api.Test
    void generateRoundsPoolRunsAndReportRatiosPerRound() throws Exception {
        StringWriter so = new StringWriter(), se = new StringWriter();
        int rc = Main.run(new String[] {"bench", "generate", "--smoke", "--batch", "1", "--rounds", "2", "--engines", "cortado,ort",
                "--out", out.toString()}, new PrintWriter(so, true), new PrintWriter(se, true));
        assertEquals(0, rc, "stdout: " + so + "\nstderr: " + se);
        Path json;
        try (Stream<Path> s = Files.list(out)) {
            json = s.filter(p -> p.toString().endsWith("-generate.json")).findFirst().orElseThrow();
        }
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertEquals(2, root.get("rounds").asInt());
        for (JsonNode r : root.get("rows")) {
            assertEquals(2, r.get("decode_tok_s_runs").size(), "one timed run (--smoke) in each of 2 rounds: " + r);
            String t = r.get("tokens").asText();
            assertTrue(t.equals("reference") || t.equals("same"), r.get("engine") + ": " + t);
        }
        JsonNode ratios = root.get("round_ratios").get("ort batch 1");
        assertEquals(2, ratios.get("ratios").size());
        double a = ratios.get("ratios").get(0).asDouble(), b = ratios.get("ratios").get(1).asDouble();
        assertTrue(a > 0 && b > 0);
        assertEquals((a + b) / 2, ratios.get("median").asDouble(), 1e-9, "the median of two ratios is their mean");
        assertTrue(so.toString().contains("decode cortado/ort at batch 1, round by round: "), so.toString());
        // a read probe per round, and each engine's roofline % per round against it
        assertEquals(2, root.get("round_read_GBps").size());
        for (String e : new String[] {"cortado", "ort"}) {
            JsonNode roof = root.get("round_roofline").get(e + " batch 1");
            assertEquals(2, roof.get("percent").size(), e);
            for (JsonNode p : roof.get("percent")) assertTrue(p.asDouble() > 0, e + ": " + roof);
        }
        assertTrue(so.toString().contains("decode roofline % of cortado at batch 1, round by round (vs each round's read probe): "), so.toString());

        Path embedOut = out.resolve("embed");
        StringWriter so3 = new StringWriter(), se3 = new StringWriter();
        assertEquals(0, Main.run(new String[] {"bench", "embed", "--smoke", "--batch", "1", "--rounds", "2", "--out", embedOut.toString()},
                new PrintWriter(so3, true), new PrintWriter(se3, true)), "stdout: " + so3 + "\nstderr: " + se3);
        Path ejson;
        try (Stream<Path> s = Files.list(embedOut)) {
            ejson = s.filter(p -> p.toString().endsWith("-embed.json")).findFirst().orElseThrow();
        }
        JsonNode eroot = new ObjectMapper().readTree(ejson.toFile());
        assertEquals(2, eroot.get("round_ratios").get("batch 1").get("ratios").size());
        assertTrue(so3.toString().contains("ratio cortado/ort at batch 1, round by round: "), so3.toString());

        StringWriter so2 = new StringWriter(), se2 = new StringWriter();
        assertEquals(2, Main.run(new String[] {"bench", "generate", "--smoke", "--rounds", "0", "--out", out.toString()},
                new PrintWriter(so2, true), new PrintWriter(se2, true)));
        assertTrue(se2.toString().contains("--rounds must be ≥ 1, got 0"), se2.toString());
    }
}
