package dev.cortado.gguf;

import dev.cortado.CortadoException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (llama.cpp's format, versions 2 and 3), memory-mapped: the header, every metadata key/value (all 13
 * value types, arrays included), the tensor infos, and each tensor's bytes as a zero-copy slice of the mapping.
 * Everything is checked at open: magic, version, counts, string and array lengths against the bytes left,
 * {@code general.alignment}, each tensor's rank, dims, type, block divisibility, aligned offset, and that its data
 * lies inside the file without overlapping another's. A bad file is one {@link CortadoException} line naming the
 * file and the problem. {@link #close()} unmaps.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" little-endian

    /** One tensor: its name, type, dims in ggml order ({@code ne[0]} = the contiguous, innermost dim) and bytes. */
    public record TensorInfo(String name, GgmlType type, long[] ne, long offset, MemorySegment data) {
        /** The row-major shape (ggml's ne reversed), as safetensors/PyTorch would give it. */
        public long[] shape() {
            long[] s = new long[ne.length];
            for (int i = 0; i < ne.length; i++) s[i] = ne[ne.length - 1 - i];
            return s;
        }

        public long elements() {
            long n = 1;
            for (long d : ne) n = Math.multiplyExact(n, d);
            return n;
        }

        /** Columns (ne[0]) and rows (all outer dims together). */
        public long cols() { return ne[0]; }

        public long rows() { return elements() / ne[0]; }

        @Override
        public String toString() {
            return name + " " + type + " " + Arrays.toString(shape());
        }
    }

    private final Path path;
    private final Arena arena;
    private final MemorySegment map;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, TensorInfo> tensors;
    private final long alignment;

    private GgufFile(Path path, Arena arena, MemorySegment map) {
        this.path = path;
        this.arena = arena;
        this.map = map;
        Cursor c = new Cursor(map, path.getFileName().toString());
        if (map.byteSize() < 4 || c.i32() != MAGIC) {
            throw new CortadoException(path + " is not a GGUF file (bad magic; expected the bytes 'GGUF' at the start)");
        }
        version = c.i32();
        if (version != 2 && version != 3) {
            throw new CortadoException(path + ": GGUF version " + version + " is not supported (2 or 3; re-convert the model with a current llama.cpp)");
        }
        long nTensors = c.count("tensor count", 24), nKv = c.count("metadata count", 12);
        Map<String, Object> meta = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            String key = c.string("metadata key");
            int type = c.i32();
            if (meta.put(key, c.value(type, key, 0)) != null) throw new CortadoException(path + ": metadata key '" + shown(key) + "' appears twice");
        }
        metadata = Collections.unmodifiableMap(meta);
        Object a = meta.getOrDefault("general.alignment", 32L);
        if (!(a instanceof Long al) || al <= 0 || al > 1 << 20 || Long.bitCount(al) != 1) {
            throw new CortadoException(path + ": general.alignment is " + a + ", expected a power of two ≤ 1 MiB");
        }
        alignment = (Long) a;
        record Raw(String name, GgmlType type, long[] ne, long offset) {}
        List<Raw> raws = new java.util.ArrayList<>();
        for (long i = 0; i < nTensors; i++) {
            String name = c.string("tensor name");
            int rank = c.i32();
            if (rank < 1 || rank > 4) throw new CortadoException(path + ": tensor '" + shown(name) + "' has " + rank + " dimensions (1 to 4)");
            long[] ne = new long[rank];
            for (int d = 0; d < rank; d++) {
                ne[d] = c.i64();
                if (ne[d] < 1 || ne[d] > 1L << 40) throw new CortadoException(path + ": tensor '" + shown(name) + "' has dimension " + Long.toUnsignedString(ne[d]));
            }
            GgmlType type = GgmlType.of(c.i32(), path + ": tensor '" + shown(name) + "'");
            raws.add(new Raw(name, type, ne, c.i64()));
        }
        long dataStart = align(c.pos, alignment);
        Map<String, TensorInfo> ts = new LinkedHashMap<>();
        long[][] spans = new long[raws.size()][];
        int k = 0;
        for (Raw r : raws) {
            String where = path + ": tensor '" + shown(r.name) + "' (" + r.type + " " + Arrays.toString(r.ne) + ")";
            if (r.ne[0] % r.type.blockSize != 0) {
                throw new CortadoException(where + ": its row of " + r.ne[0] + " elements is not a whole number of " + r.type + " blocks of " + r.type.blockSize);
            }
            long elements;
            try {
                elements = 1;
                for (long d : r.ne) elements = Math.multiplyExact(elements, d);
            } catch (ArithmeticException e) {
                throw new CortadoException(where + ": element count overflows");
            }
            long bytes = r.type.bytes(elements);
            if (r.offset < 0 || r.offset % alignment != 0) {
                throw new CortadoException(where + ": data offset " + Long.toUnsignedString(r.offset) + " is not a multiple of the alignment " + alignment + " (corrupt or misaligned file)");
            }
            if (dataStart + r.offset < 0 || dataStart + r.offset + bytes > map.byteSize() || dataStart + r.offset + bytes < 0) {
                throw new CortadoException(where + ": its " + bytes + " bytes at offset " + r.offset + " run past the end of the file ("
                        + map.byteSize() + " bytes; truncated download?)");
            }
            if (ts.containsKey(r.name)) throw new CortadoException(path + ": tensor '" + shown(r.name) + "' appears twice");
            spans[k++] = new long[] {r.offset, r.offset + bytes};
            ts.put(r.name, new TensorInfo(r.name, r.type, r.ne, r.offset, map.asSlice(dataStart + r.offset, bytes)));
        }
        Arrays.sort(spans, (x, y) -> Long.compare(x[0], y[0]));
        for (int i = 1; i < spans.length; i++) {
            if (spans[i][0] < spans[i - 1][1]) throw new CortadoException(path + ": tensor data regions overlap at offset " + spans[i][0] + " (corrupt file)");
        }
        tensors = Collections.unmodifiableMap(ts);
    }

    /** Maps and parses {@code path}; the mapping lives until {@link #close()}. */
    public static GgufFile open(Path path) {
        if (!Files.isRegularFile(path)) throw new CortadoException("GGUF file not found: " + path);
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new GgufFile(path, arena, m);
        } catch (IOException e) {
            arena.close();
            throw new CortadoException("cannot read " + path + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** A name or key from the file as shown in a message: control characters escaped, at most 80 characters. */
    static String shown(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 80; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || Character.isSurrogate(c) || c == 0xfffd) b.append(String.format("\\x%02x", (int) c & 0xff));
            else b.append(c);
        }
        return b.length() >= 80 ? b + "…" : b.toString();
    }

    static long align(long x, long a) {
        return (x + a - 1) / a * a;
    }

    public Path path() { return path; }

    public int version() { return version; }

    public long alignment() { return alignment; }

    /** Every key in file order; values: Long (all integer types), Float, Double, Boolean, String, or List of those. */
    public Map<String, Object> metadata() { return metadata; }

    public Map<String, TensorInfo> tensors() { return tensors; }

    public TensorInfo tensor(String name) { return tensors.get(name); }

    /** general.architecture (required). */
    public String architecture() {
        return GgufMetadata.of(this).string("general.architecture");
    }

    /** How many tensors of each type, e.g. {Q8_0=31, F32=11}. */
    public Map<GgmlType, Integer> typeCounts() {
        Map<GgmlType, Integer> m = new java.util.EnumMap<>(GgmlType.class);
        for (TensorInfo t : tensors.values()) m.merge(t.type(), 1, Integer::sum);
        return m;
    }

    private boolean closed;

    /** Unmaps the file; tensors' data may no longer be read. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        arena.close();
    }

    /** A bounds-checked little-endian reader over the header. */
    private final class Cursor {
        final MemorySegment m;
        final String file;
        long pos;

        Cursor(MemorySegment m, String file) {
            this.m = m;
            this.file = file;
        }

        void need(long n, String what) {
            if (n < 0 || pos + n > m.byteSize() || pos + n < 0) {
                throw new CortadoException(path + ": truncated GGUF header (reading " + what + " at byte " + pos + " of " + m.byteSize()
                        + "; the file is cut short or corrupt)");
            }
        }

        int i32() {
            need(4, "a 32-bit value");
            int v = m.get(dev.cortado.tensor.Tensor.I32_LE, pos);
            pos += 4;
            return v;
        }

        long i64() {
            need(8, "a 64-bit value");
            long v = m.get(dev.cortado.tensor.Tensor.I64_LE, pos);
            pos += 8;
            return v;
        }

        /** A count whose every item needs at least {@code minBytes}: bounded by the bytes left. */
        long count(String what, long minBytes) {
            long n = i64();
            if (n < 0 || n > (m.byteSize() - pos) / minBytes) {
                throw new CortadoException(path + ": " + what + " " + Long.toUnsignedString(n) + " does not fit in the " + (m.byteSize() - pos)
                        + " bytes left (truncated or corrupt GGUF header)");
            }
            return n;
        }

        String string(String what) {
            long n = count(what + " length", 1);
            if (n > Integer.MAX_VALUE - 8) throw new CortadoException(path + ": " + what + " is " + n + " bytes long (corrupt GGUF header)");
            byte[] b = new byte[(int) n];
            MemorySegment.copy(m, java.lang.foreign.ValueLayout.JAVA_BYTE, pos, b, 0, (int) n);
            pos += n;
            return new String(b, java.nio.charset.StandardCharsets.UTF_8);
        }

        Object value(int type, String key, int depth) {
            return switch (type) {
                case 0 -> (long) u8();
                case 1 -> (long) (byte) u8();
                case 2 -> (long) (u16() & 0xffff);
                case 3 -> (long) (short) u16();
                case 4 -> (long) i32() & 0xffffffffL;
                case 5 -> (long) i32();
                case 6 -> Float.intBitsToFloat(i32());
                case 7 -> {
                    int b = u8();
                    if (b > 1) throw new CortadoException(path + ": metadata '" + shown(key) + "' is a bool with byte " + b + " (0 or 1)");
                    yield b == 1;
                }
                case 8 -> string("metadata '" + shown(key) + "'");
                case 9 -> {
                    if (depth > 2) throw new CortadoException(path + ": metadata '" + shown(key) + "' nests arrays too deeply");
                    int et = i32();
                    long n = count("metadata '" + shown(key) + "' array length", et == 8 || et == 9 ? 8 : elementBytes(et, key));
                    Object[] items = new Object[Math.toIntExact(n)];
                    for (int i = 0; i < items.length; i++) items[i] = value(et, key, depth + 1);
                    yield List.of(items);
                }
                case 10, 11 -> i64();
                case 12 -> Double.longBitsToDouble(i64());
                default -> throw new CortadoException(path + ": metadata '" + shown(key) + "' has unknown value type " + type + " (0..12)");
            };
        }

        long elementBytes(int type, String key) {
            return switch (type) {
                case 0, 1, 7 -> 1;
                case 2, 3 -> 2;
                case 4, 5, 6 -> 4;
                case 10, 11, 12 -> 8;
                default -> throw new CortadoException(path + ": metadata '" + shown(key) + "' has unknown array element type " + type);
            };
        }

        int u8() {
            need(1, "a byte");
            return m.get(java.lang.foreign.ValueLayout.JAVA_BYTE, pos++) & 0xff;
        }

        int u16() {
            need(2, "a 16-bit value");
            int v = m.get(dev.cortado.tensor.Tensor.I16_LE, pos);
            pos += 2;
            return v;
        }
    }
}
