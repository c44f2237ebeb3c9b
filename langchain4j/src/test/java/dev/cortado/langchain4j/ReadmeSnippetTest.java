package dev.cortado.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's LangChain4j example, as written: its Java block (the first after {@code ## LangChain4j}) is compiled
 * against this module's class path and run, with the chat model folder it names replaced by stories260K with a chat
 * template (the only change).
 */
class ReadmeSnippetTest {
    @TempDir Path tmp;

    static final String MODEL = "Path.of(\"Qwen2.5-0.5B-Instruct\")";

    static String snippet() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int section = readme.indexOf("\n## LangChain4j\n");
        assertTrue(section >= 0, "README.md has no '## LangChain4j' section");
        int start = readme.indexOf("```java\n", section) + "```java\n".length();
        int end = readme.indexOf("\n```", start);
        assertTrue(start > section && end > start, "no ```java block in the LangChain4j section");
        return readme.substring(start, end);
    }

    /** The block as a class: its imports on top, the rest the body of {@code run()}. */
    static String asClass(String block, String modelExpr) {
        StringBuilder imports = new StringBuilder(), body = new StringBuilder();
        for (String line : block.split("\n", -1)) (line.startsWith("import ") ? imports : body).append(line).append('\n');
        assertTrue(body.indexOf(MODEL) >= 0, "the snippet no longer opens " + MODEL);
        return imports + "public class Snippet {\n public static void run() throws Exception {\n"
                + body.toString().replace(MODEL, modelExpr) + " }\n}\n";
    }

    @Test
    void readmeExampleCompilesAndRuns() throws Exception {
        Path chatModel = Fixtures.chatModel(tmp);
        Path src = Files.createDirectories(tmp.resolve("src")).resolve("Snippet.java"), out = Files.createDirectories(tmp.resolve("classes"));
        Files.writeString(src, asClass(snippet(), "Path.of(" + '"' + chatModel.toString().replace("\\", "\\\\") + '"' + ")"));
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "no Java compiler in this JDK");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = javac.run(null, err, err, "-proc:none", "-cp", cp, "-d", out.toString(), src.toString());
        assertEquals(0, rc, "the README's LangChain4j example does not compile:\n" + err.toString(StandardCharsets.UTF_8));

        List<URL> urls = new ArrayList<>(List.of(out.toUri().toURL()));
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), getClass().getClassLoader())) {
            Method run = loader.loadClass("Snippet").getMethod("run");
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            run.invoke(null);
        } finally {
            System.setOut(stdout);
        }
        assertTrue(printed.size() > 100, "the streamed story was printed: " + printed);
    }
}
