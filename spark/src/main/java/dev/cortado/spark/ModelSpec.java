package dev.cortado.spark;

import dev.cortado.CortadoException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What an executor opens: a model folder (a path every executor can read: shared storage, or a folder shipped with
 * {@code --archives}/{@code --files}, found through {@link org.apache.spark.SparkFiles}) and how to run it. Only
 * this small description travels in a task closure, never weights.
 *
 * @param path      the model folder as the executors see it
 * @param device    {@code cpu} or {@code cuda[:N]}
 * @param dtype     weights: {@code f32}, {@code bf16} (CPU), {@code f16} (CUDA)
 * @param kvMemory  the KV pool, e.g. {@code 2g}, or null for the engine's default
 */
public record ModelSpec(String path, String device, String dtype, String kvMemory) implements Serializable {
    public ModelSpec {
        if (path == null || path.isBlank()) throw new CortadoException("no model path; give the model folder every executor can read");
        if (device == null) device = "cpu";
        if (dtype == null) dtype = "f32";
    }

    /** A CPU model in f32 with the default KV pool. */
    public static ModelSpec of(String path) {
        return new ModelSpec(path, "cpu", "f32", null);
    }

    /** One engine per executor JVM per key. */
    public String key() {
        return path + "|" + device + "|" + dtype + "|" + (kvMemory == null ? "" : kvMemory);
    }

    /**
     * The folder on this executor: {@link #path} when it exists here, else the file or folder of that name that
     * Spark shipped to this executor ({@code --files}, {@code --archives model.zip#name}).
     */
    public Path localPath() {
        Path p = Path.of(path);
        if (Files.exists(p)) return p;
        String name = p.getFileName() == null ? path : p.getFileName().toString();
        try {
            Path shipped = Path.of(org.apache.spark.SparkFiles.get(name));
            if (Files.exists(shipped)) return shipped;
        } catch (RuntimeException | LinkageError e) {
            // no SparkContext/SparkEnv here (or no Spark at all): only the path itself counts
        }
        Path local = Path.of(name);
        if (Files.exists(local)) return local.toAbsolutePath(); // --archives unpacks into the working directory
        throw new CortadoException("model " + path + " is not readable on executor " + host() + "; put it on storage every "
                + "executor mounts at the same path, or ship it with --archives model.zip#" + name + " and give the model as " + name);
    }

    private static String host() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "(unknown host)";
        }
    }
}
