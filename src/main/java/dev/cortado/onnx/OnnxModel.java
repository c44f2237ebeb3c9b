package dev.cortado.onnx;

import dev.cortado.CortadoException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An ONNX model (ModelProto) read from a memory-mapped file without protobuf-java.
 *
 * <p>The file and any external data files are mapped into one shared {@link Arena}; initializer tensors are zero-copy
 * views of those mappings and become invalid after {@link #close()}. Files over 2 GiB are supported (all offsets are
 * {@code long}). Any problem with the file (missing, empty, truncated, corrupt, unsafe external data path) is reported
 * as a {@link CortadoException} naming the file.
 */
public final class OnnxModel implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final long irVersion;
    private final String producerName;
    private final String producerVersion;
    private final String domain;
    private final long modelVersion;
    private final Map<String, Long> opsetImports;
    private final Map<String, String> metadata;
    private final Graph graph;
    private final AtomicBoolean closed = new AtomicBoolean();

    private OnnxModel(Path path, Arena arena, Header h, Graph graph) {
        this.path = path;
        this.arena = arena;
        this.irVersion = h.irVersion;
        this.producerName = h.producerName;
        this.producerVersion = h.producerVersion;
        this.domain = h.domain;
        this.modelVersion = h.modelVersion;
        this.opsetImports = Collections.unmodifiableMap(h.opsets);
        this.metadata = Collections.unmodifiableMap(h.metadata);
        this.graph = graph;
    }

    /** Maps and parses {@code path}. The caller closes the model. */
    public static OnnxModel open(Path path) {
        if (!Files.exists(path)) throw new CortadoException("ONNX file not found: " + path);
        if (Files.isDirectory(path)) throw new CortadoException("ONNX file expected but " + path + " is a folder");
        String source = "ONNX file " + path;
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg;
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            }
            if (seg.byteSize() == 0) throw new CortadoException("ONNX file " + path + " is empty");
            ProtoReader r = new ProtoReader(seg, source, "ModelProto");
            Header h = new Header();
            GraphParser parser = new GraphParser(new TensorParser(new ExternalData(path, arena)));
            Graph graph = null;
            while (r.hasNext()) {
                switch (r.nextField()) {
                    case 1 -> h.irVersion = r.readVarint();
                    case 2 -> h.producerName = r.readString();
                    case 3 -> h.producerVersion = r.readString();
                    case 4 -> h.domain = r.readString();
                    case 5 -> h.modelVersion = r.readVarint();
                    case 7 -> graph = parser.graph(r.readMessage("GraphProto"), 0);
                    case 8 -> opset(r.readMessage("OperatorSetIdProto"), h.opsets);
                    case 14 -> entry(r.readMessage("StringStringEntryProto"), h.metadata);
                    default -> r.skip();
                }
            }
            if (graph == null) {
                throw new CortadoException("corrupt ONNX file " + path + ": no graph found in "
                        + seg.byteSize() + " bytes (is it an ONNX model?)");
            }
            return new OnnxModel(path, arena, h, graph);
        } catch (CortadoException e) {
            arena.close();
            throw e;
        } catch (IOException e) {
            arena.close();
            throw new CortadoException("cannot read ONNX file " + path + ": " + e, e);
        } catch (RuntimeException e) {
            // safety net: the parser validates everything it reads, so this means a reader bug, not a crash for users
            arena.close();
            throw new CortadoException("corrupt ONNX file " + path + ": " + e, e);
        }
    }

    private static void opset(ProtoReader r, Map<String, Long> out) {
        String domain = "";
        long version = 0;
        while (r.hasNext()) {
            switch (r.nextField()) {
                case 1 -> domain = r.readString();
                case 2 -> version = r.readVarint();
                default -> r.skip();
            }
        }
        out.put(domain.equals("ai.onnx") ? "" : domain, version);
    }

    private static void entry(ProtoReader r, Map<String, String> out) {
        String key = "", value = "";
        while (r.hasNext()) {
            switch (r.nextField()) {
                case 1 -> key = r.readString();
                case 2 -> value = r.readString();
                default -> r.skip();
            }
        }
        out.put(key, value);
    }

    public Path path() {
        return path;
    }

    public long irVersion() {
        return irVersion;
    }

    public String producerName() {
        return producerName;
    }

    public String producerVersion() {
        return producerVersion;
    }

    public String domain() {
        return domain;
    }

    public long modelVersion() {
        return modelVersion;
    }

    /** Operator set versions by domain, in file order; "" is the default domain ai.onnx. */
    public Map<String, Long> opsetImports() {
        return opsetImports;
    }

    /** The ai.onnx opset version, or 0 when the file imports none. */
    public long opset() {
        return opsetImports.getOrDefault("", 0L);
    }

    /** metadata_props, in file order. */
    public Map<String, String> metadata() {
        return metadata;
    }

    public Graph graph() {
        return graph;
    }

    /** Unmaps the model and its external data; tensors from this model must not be used afterwards. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) arena.close();
    }

    @Override
    public String toString() {
        return "OnnxModel " + path + " (IR " + irVersion + ", opsets " + opsetImports + ", " + graph + ")";
    }

    private static final class Header {
        long irVersion;
        String producerName = "";
        String producerVersion = "";
        String domain = "";
        long modelVersion;
        final Map<String, Long> opsets = new LinkedHashMap<>();
        final Map<String, String> metadata = new LinkedHashMap<>();
    }
}
