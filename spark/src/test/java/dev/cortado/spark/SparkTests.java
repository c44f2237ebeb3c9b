package dev.cortado.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.SharedPaths;
import dev.cortado.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Assumptions;

/** Shared pieces of the Spark tests: the local session, paths, the CLI in-process, and result comparison. */
final class SparkTests {
    static final ObjectMapper M = new ObjectMapper();

    private SparkTests() {}

    /**
     * One local[2] session per test class: no UI, driver on loopback only (nothing listens or connects elsewhere),
     * few shuffle partitions.
     */
    static SparkSession session() {
        return SparkSession.builder().appName("cortado-spark-test").master("local[2]")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.log.level", "WARN")
                .getOrCreate();
    }

    /** The repository root (tests run in spark/). */
    static Path repo() {
        Path here = Path.of("").toAbsolutePath();
        return Files.isRegularFile(here.resolve("core.xml")) ? here : here.getParent();
    }

    /** Cortado's own model folder {@code models/NAME}, absolute and normalized (as batch --spark names it). */
    static Path ownModel(String name) {
        Path p = repo().resolve("models").resolve(name).toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isRegularFile(p.resolve("encoder_model.onnx")), "model absent: " + p + ": skipping");
        return p;
    }

    /** A file or folder under ../shared; the test is skipped when it is absent. */
    static Path shared(String relative) {
        Path root = SharedPaths.root();
        Assumptions.assumeTrue(root != null, "shared folder absent (set CORTADO_SHARED or place ../shared beside the project): skipping");
        Path p = root.resolve(relative).toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.exists(p), "shared file absent: " + p + ": skipping");
        return p;
    }

    /** Column {@code column} of the first {@code n} rows of a DDTP dev TSV (header skipped). */
    static List<String> ddtp(String split, String column, int n) throws IOException {
        List<String> lines = Files.readAllLines(shared("data/debian-descriptions/" + split + "/dev.tsv"), StandardCharsets.UTF_8);
        int c = List.of(lines.getFirst().split("\t")).indexOf(column);
        List<String> out = new ArrayList<>();
        for (String l : lines.subList(1, lines.size())) {
            String[] f = l.split("\t", -1);
            if (f.length > c && !f[c].isBlank()) out.add(f[c]);
            if (out.size() == n) break;
        }
        return out;
    }

    static String line(String id, String url, Map<String, ?> body) {
        ObjectNode o = M.createObjectNode().put("custom_id", id).put("method", "POST").put("url", url);
        o.set("body", M.valueToTree(body));
        return o.toString();
    }

    /** {@code cortado ARGS} in this JVM; asserts exit 0 and returns stderr. */
    static String cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, () -> "cortado " + String.join(" ", args) + " failed: " + err);
        return err.toString();
    }

    /**
     * Output lines by custom_id with what differs between two runs of the same request removed: the line's and
     * the response's random ids and the creation time. Everything else (texts, finish reasons, usage, error codes
     * and messages) must be equal.
     */
    static Map<String, JsonNode> byId(Path output) throws IOException {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (String l : Files.readAllLines(output, StandardCharsets.UTF_8)) {
            ObjectNode n = (ObjectNode) M.readTree(l);
            n.remove("id");
            if (n.get("response") instanceof ObjectNode r) {
                r.remove("request_id");
                if (r.get("body") instanceof ObjectNode b) {
                    b.remove("id");
                    b.remove("created");
                }
            }
            JsonNode before = out.put(n.get("custom_id").textValue(), n);
            if (before != null) throw new AssertionError("custom_id " + n.get("custom_id") + " written twice in " + output);
        }
        return out;
    }

    /** The custom_ids of {@code output} in file order. */
    static List<String> ids(Path output) throws IOException {
        return new ArrayList<>(byId(output).keySet());
    }
}
