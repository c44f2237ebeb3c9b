package dev.cortado.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.CortadoException;
import dev.cortado.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Safetensors weights, memory-mapped: one file, or a Hugging Face folder holding {@code model.safetensors} or shards
 * listed in {@code model.safetensors.index.json}. Tensors are zero-copy views of the mappings and become invalid after
 * {@link #close()}.
 */
public final class Safetensors implements AutoCloseable {
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Arena arena;
    private final List<Path> files;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Safetensors(Arena arena, List<Path> files, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.arena = arena;
        this.files = List.copyOf(files);
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Maps one {@code .safetensors} file. */
    public static Safetensors open(Path file) {
        Arena arena = Arena.ofShared();
        try {
            SafetensorsFile f = SafetensorsFile.read(file, arena);
            return new Safetensors(arena, List.of(file), f.tensors, f.metadata);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Opens {@code dir/model.safetensors}, or else the shards listed in {@code dir/model.safetensors.index.json}. */
    public static Safetensors openFolder(Path dir) {
        if (!Files.isDirectory(dir)) throw new CortadoException("model folder not found: " + dir);
        if (Files.isRegularFile(dir.resolve(SINGLE))) return open(dir.resolve(SINGLE));
        Path index = dir.resolve(INDEX);
        if (!Files.isRegularFile(index)) {
            throw new CortadoException("no " + SINGLE + " or " + INDEX + " in " + dir);
        }
        Arena arena = Arena.ofShared();
        try {
            return sharded(dir, index, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Safetensors sharded(Path dir, Path index, Arena arena) {
        JsonNode root;
        try {
            root = SafetensorsFile.JSON.readTree(Files.readAllBytes(index));
        } catch (IOException e) {
            throw new CortadoException("cannot read " + index + ": " + e.getMessage(), e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) throw new CortadoException(index + " has no weight_map object");
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            if (!e.getValue().isTextual()) {
                throw new CortadoException(index + ": weight_map entry '" + e.getKey() + "' is not a file name");
            }
            String shard = e.getValue().textValue();
            if (!shards.containsKey(shard)) shards.put(shard, SafetensorsFile.read(confined(dir, index, shard), arena));
            if (!shards.get(shard).tensors.containsKey(e.getKey())) {
                throw new CortadoException(index + " puts tensor '" + e.getKey() + "' in " + shard + ", which lacks it");
            }
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Path> files = new ArrayList<>();
        for (Map.Entry<String, SafetensorsFile> s : shards.entrySet()) {
            files.add(dir.resolve(s.getKey()));
            s.getValue().metadata.forEach(metadata::putIfAbsent);
            for (Map.Entry<String, Tensor> t : s.getValue().tensors.entrySet()) {
                if (tensors.putIfAbsent(t.getKey(), t.getValue()) != null) {
                    throw new CortadoException("tensor '" + t.getKey() + "' appears in more than one shard of " + index);
                }
            }
        }
        JsonNode meta = root.get("metadata");
        if (meta != null && meta.isObject()) {
            for (Map.Entry<String, JsonNode> e : meta.properties()) {
                JsonNode v = e.getValue();
                metadata.putIfAbsent(e.getKey(), v.isTextual() ? v.textValue() : v.toString());
            }
        }
        return new Safetensors(arena, files, tensors, metadata);
    }

    /** {@code dir/name}, rejecting absolute names and names that leave {@code dir}. */
    private static Path confined(Path dir, Path index, String name) {
        Path base = dir.toAbsolutePath().normalize();
        try {
            Path rel = Path.of(name);
            Path p = base.resolve(rel).normalize();
            if (!rel.isAbsolute() && !name.startsWith("/") && !name.startsWith("\\") && p.startsWith(base) && !p.equals(base)) {
                return p;
            }
        } catch (InvalidPathException e) {
            // reported below
        }
        throw new CortadoException(index + " names shard '" + name + "' outside the model folder");
    }

    /** All tensors by name: header order, shards in index order. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** The named tensor; a CortadoException naming it when absent. */
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new CortadoException("tensor '" + name + "' not found in " + files);
        return t;
    }

    /** {@code __metadata__} (first shard wins), plus the index's {@code metadata} for sharded folders. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The files mapped, in order. */
    public List<Path> files() {
        return files;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) arena.close();
    }

    @Override
    public String toString() {
        return "Safetensors " + files + " (" + tensors.size() + " tensors)";
    }
}
