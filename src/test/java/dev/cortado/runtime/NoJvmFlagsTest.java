package dev.cortado.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.SharedPaths;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The library needs no JVM flags (issue 21): a child {@code java} WITHOUT {@code --add-modules jdk.incubator.vector}
 * and without {@code --enable-native-access} runs the CPU backend's scalar twins and still reproduces the goldens
 * written by others: transformers {@code generate} beam 4 for the shipped EN→DE model (models/cortado-en-de/
 * goldens.json) and llama2.c greedy tokens for stories260K (../shared, skipped when absent). It prints the one
 * fallback warning once, and no stack trace.
 */
class NoJvmFlagsTest {
    private static final int CASES = 6;

    @Test
    void translateAndGenerateWithoutTheVectorModuleMatchGoldens() throws Exception {
        Path enDe = Path.of("models", "cortado-en-de").toAbsolutePath();
        ObjectMapper om = new ObjectMapper();
        JsonNode g = om.readTree(enDe.resolve("goldens.json").toFile());
        Path stories = SharedPaths.model("stories260K");
        boolean gen = stories != null && Files.isRegularFile(stories.resolve("goldens.json"));
        JsonNode pg = gen ? om.readTree(stories.resolve("goldens.json").toFile()).get("prompt_greedy").get(0) : null;

        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dcortado.packCache=false", "-cp", System.getProperty("java.class.path"), NoFlagsProbe.class.getName(), enDe.toString(),
                gen ? stories.toString() : "-", gen ? pg.get("prompt").asText() : "", gen ? pg.get("max_new_tokens").asText() : "0"));
        for (int i = 0; i < CASES; i++) cmd.add(g.get("cases").get(i).get("source").asText());
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("JDK_JAVA_OPTIONS");
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        Process p = pb.start();
        var err = p.getErrorStream();
        var errText = new java.util.concurrent.CompletableFuture<String>();
        Thread.ofPlatform().start(() -> {
            try {
                errText.complete(new String(err.readAllBytes(), StandardCharsets.UTF_8));
            } catch (java.io.IOException e) {
                errText.completeExceptionally(e);
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "probe did not finish");
        String stderr = errText.get();
        assertEquals(0, p.exitValue(), "probe failed:\n" + stderr + out);

        List<String> warnings = stderr.lines().filter(l -> l.contains("--add-modules jdk.incubator.vector")).toList();
        assertEquals(1, warnings.size(), "one fallback warning expected:\n" + stderr);
        assertTrue(warnings.getFirst().startsWith("cortado: WARNING: the Java Vector API is not enabled"), stderr);
        assertTrue(!stderr.contains("Exception") && !stderr.contains("\tat "), "no stack trace:\n" + stderr);

        List<String> t = out.lines().filter(l -> l.startsWith("T ")).toList();
        assertEquals(CASES, t.size(), out);
        for (int i = 0; i < CASES; i++) {
            int[] golden = om.convertValue(g.get("cases").get(i).get("beam4").get("output_ids"), int[].class);
            int end = golden.length;
            for (int k = 1; k < golden.length; k++) if (golden[k] == 1) { end = k + 1; break; }
            assertEquals(ids(java.util.Arrays.copyOfRange(golden, 1, end)), t.get(i).substring(2), "en-de case " + i);
        }
        if (gen) {
            String line = out.lines().filter(l -> l.startsWith("G ")).findFirst().orElseThrow();
            int[] golden = om.convertValue(pg.get("new_ids"), int[].class);
            assertEquals(ids(golden), line.substring(2), "stories260K greedy (llama2.c)");
        }
    }

    private static String ids(int[] a) {
        StringBuilder b = new StringBuilder();
        for (int id : a) b.append(b.isEmpty() ? "" : " ").append(id);
        return b.toString();
    }
}
