package dev.cortado.arch;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No package of the main sources depends on itself through others (issue: engine, model and ort imported each
 * other). Dependencies are read from the sources: imports and fully qualified names of Cortado types. A package
 * and its subpackages count as one component only for the tokenizer (its subpackages are its parts: models,
 * normalizers, pre-tokenizers, post-processors and decoders share its base types).
 */
class PackageCyclesTest {
    private static final Path MAIN = Path.of("src/main/java");
    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern REF = Pattern.compile("\\b(dev\\.cortado(?:\\.[a-z0-9_]+)*)\\.[A-Z]");

    static String component(String pkg) {
        return pkg.startsWith("dev.cortado.tokenizer.") ? "dev.cortado.tokenizer" : pkg;
    }

    /** component → (component it uses → files that use it). */
    static Map<String, Map<String, Set<String>>> dependencies() throws IOException {
        Map<String, Map<String, Set<String>>> deps = new TreeMap<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String src = Files.readString(f);
                Matcher pm = PACKAGE.matcher(src);
                if (!pm.find()) continue;
                String from = component(pm.group(1));
                deps.computeIfAbsent(from, k -> new TreeMap<>());
                Matcher m = REF.matcher(src);
                while (m.find()) {
                    String to = component(m.group(1));
                    if (!to.equals(from)) deps.get(from).computeIfAbsent(to, k -> new TreeSet<>()).add(f.getFileName().toString());
                }
            }
        }
        return deps;
    }

    /** Strongly connected components with more than one package (Tarjan). */
    static List<List<String>> cycles(Map<String, Map<String, Set<String>>> deps) {
        Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new java.util.HashSet<>();
        List<List<String>> out = new ArrayList<>();
        int[] counter = {0};
        for (String v : deps.keySet()) if (!index.containsKey(v)) strong(v, deps, index, low, stack, onStack, out, counter);
        return out;
    }

    private static void strong(String v, Map<String, Map<String, Set<String>>> deps, Map<String, Integer> index,
                               Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                               List<List<String>> out, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : deps.getOrDefault(v, Map.of()).keySet()) {
            if (!index.containsKey(w)) {
                strong(w, deps, index, low, stack, onStack, out, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            List<String> comp = new ArrayList<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                comp.add(w);
            } while (!w.equals(v));
            if (comp.size() > 1) out.add(comp);
        }
    }

    @Test
    void noPackageCycles() throws IOException {
        Map<String, Map<String, Set<String>>> deps = dependencies();
        assertTrue(deps.size() > 10, "read the main sources: " + deps.keySet());
        List<List<String>> cycles = cycles(deps);
        StringBuilder why = new StringBuilder();
        for (List<String> c : cycles) {
            why.append("\ncycle among ").append(new TreeSet<>(c)).append(':');
            for (String a : c)
                for (String b : c)
                    if (deps.get(a).containsKey(b)) why.append("\n  ").append(a).append(" -> ").append(b).append(" in ").append(deps.get(a).get(b));
        }
        assertTrue(cycles.isEmpty(), why.toString());
    }

    @Test
    void theCheckFindsACycle() {
        Map<String, Map<String, Set<String>>> deps = new TreeMap<>();
        deps.put("a", new TreeMap<>(Map.of("b", Set.of("A.java"))));
        deps.put("b", new TreeMap<>(Map.of("c", Set.of("B.java"))));
        deps.put("c", new TreeMap<>(Map.of("a", Set.of("C.java"))));
        deps.put("d", new TreeMap<>(Map.of("a", Set.of("D.java"))));
        List<List<String>> c = cycles(deps);
        assertTrue(c.size() == 1 && new TreeSet<>(c.getFirst()).equals(new TreeSet<>(List.of("a", "b", "c"))), c.toString());
    }
}
