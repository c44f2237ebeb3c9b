package dev.cortado.onnx;

import dev.cortado.CortadoException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * External tensor data ({@code data_location = EXTERNAL}): resolves {@code location} inside the model's folder only
 * (absolute paths, {@code ..} escapes and symbolic links leading outside are rejected) and maps each external file
 * once into the model's arena, so all tensors stored in it share one mapping.
 */
final class ExternalData {
    private final Path modelFile;
    private final Path dir;
    private final Arena arena;
    private final Map<Path, MemorySegment> mapped = new HashMap<>();
    private final Map<String, MemorySegment> byLocation = new HashMap<>();
    private Path realDir;

    ExternalData(Path modelFile, Arena arena) {
        this.modelFile = modelFile;
        Path parent = modelFile.toAbsolutePath().normalize().getParent();
        this.dir = parent == null ? Path.of("").toAbsolutePath() : parent;
        this.arena = arena;
    }

    /**
     * The bytes of one tensor.
     *
     * @param length the {@code length} entry, or -1 when absent (then the rest of the file from offset)
     * @param need   the byte size the tensor's dims and data type require
     */
    MemorySegment slice(String tensor, String location, long offset, long length, long need) {
        MemorySegment file = map(tensor, location);
        long size = file.byteSize();
        if (offset < 0 || offset > size) {
            throw fail(tensor, "offset " + offset + " lies outside external file '" + location + "' of " + size + " bytes");
        }
        long len = length < 0 ? need : length;
        if (len != need) {
            throw fail(tensor, "external data length " + len + " does not match the " + need + " bytes its dims and data type need");
        }
        if (len > size - offset) {
            throw fail(tensor, "external data at offset " + offset + " length " + len
                    + " runs past end of '" + location + "' (" + size + " bytes)");
        }
        return file.asSlice(offset, len);
    }

    private MemorySegment map(String tensor, String location) {
        MemorySegment known = location == null ? null : byLocation.get(location);
        if (known != null) return known;
        Path target = resolve(tensor, location);
        Path real;
        try {
            real = target.toRealPath();
            if (realDir == null) realDir = dir.toRealPath();
            if (!real.startsWith(realDir)) {
                throw fail(tensor, "external data path '" + location + "' leads outside the model folder (symbolic link)");
            }
        } catch (IOException e) {
            throw fail(tensor, "external data file '" + location + "' not found (looked for " + target + ")");
        }
        MemorySegment seg = mapped.get(real);
        if (seg == null) {
            if (!Files.isRegularFile(real)) throw fail(tensor, "external data path '" + location + "' is not a file");
            try (FileChannel ch = FileChannel.open(real, StandardOpenOption.READ)) {
                seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            } catch (IOException e) {
                throw fail(tensor, "cannot read external data file '" + location + "': " + e.getMessage());
            }
            mapped.put(real, seg);
        }
        byLocation.put(location, seg);
        return seg;
    }

    /** The location inside the model folder, or a CortadoException naming the path when it is unsafe. */
    private Path resolve(String tensor, String location) {
        if (location == null || location.isEmpty()) {
            throw fail(tensor, "data_location is EXTERNAL but external_data has no 'location'");
        }
        boolean absolute = location.startsWith("/") || location.startsWith("\\")
                || (location.length() > 1 && location.charAt(1) == ':');
        Path rel;
        try {
            rel = Path.of(location);
        } catch (InvalidPathException e) {
            throw fail(tensor, "external data path '" + location + "' is not a valid path");
        }
        if (absolute || rel.isAbsolute()) {
            throw fail(tensor, "external data path '" + location + "' is absolute; it must be relative to the model folder");
        }
        Path target = dir.resolve(rel).normalize();
        if (!target.startsWith(dir) || target.equals(dir)) {
            throw fail(tensor, "external data path '" + location + "' escapes the model folder " + dir);
        }
        return target;
    }

    private CortadoException fail(String tensor, String what) {
        return new CortadoException("ONNX file " + modelFile + ": tensor '" + tensor + "': " + what);
    }
}
