package dev.cortado.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.cortado.CortadoException;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@code .safetensors} file: an unsigned 64-bit little-endian header length, a JSON header
 * ({@code name -> {dtype, shape, data_offsets: [begin, end]}} plus optional {@code __metadata__}), then the data.
 * Every offset is validated against the file before a zero-copy tensor is made over the mapping.
 */
final class SafetensorsFile {
    /** The format's own limit on the header size. */
    static final long MAX_HEADER = 100L * 1024 * 1024;

    static final ObjectMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    final Map<String, Tensor> tensors = new LinkedHashMap<>();
    final Map<String, String> metadata = new LinkedHashMap<>();

    private final Path file;

    private SafetensorsFile(Path file) {
        this.file = file;
    }

    /** Maps {@code file} into {@code arena} and reads its header. */
    static SafetensorsFile read(Path file, Arena arena) {
        if (!Files.exists(file)) throw new CortadoException("safetensors file not found: " + file);
        if (!Files.isRegularFile(file)) throw new CortadoException("safetensors file expected but " + file + " is not a file");
        MemorySegment seg;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        } catch (IOException e) {
            throw new CortadoException("cannot read safetensors file " + file + ": " + e, e);
        }
        SafetensorsFile f = new SafetensorsFile(file);
        f.parse(seg);
        return f;
    }

    private void parse(MemorySegment seg) {
        long size = seg.byteSize();
        if (size < 8) throw fail("file of " + size + " bytes is too small to hold the 8-byte header length");
        long headerLen = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen < 0 || headerLen > size - 8) {
            throw fail("header length " + Long.toUnsignedString(headerLen) + " runs past end of file (" + size + " bytes)");
        }
        if (headerLen > MAX_HEADER) throw fail("header length " + headerLen + " exceeds the 100 MiB limit");
        byte[] json = seg.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw fail("header is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw fail("cannot parse header: " + e.getMessage());
        }
        if (root == null || !root.isObject()) throw fail("header is not a JSON object");
        long base = 8 + headerLen;
        MemorySegment data = seg.asSlice(base);
        List<Range> ranges = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals("__metadata__")) {
                readMetadata(e.getValue());
            } else {
                tensors.put(e.getKey(), tensor(e.getKey(), e.getValue(), data, base, ranges));
            }
        }
        disjoint(ranges, data.byteSize());
    }

    private record Range(String name, long begin, long end) {}

    /**
     * Like the reference reader, the tensors' byte ranges must tile the data section: no overlap, no gap, and the
     * last one ends at the end of the file (otherwise a shifted header length would silently shift every weight).
     */
    private void disjoint(List<Range> ranges, long dataBytes) {
        ranges.sort(Comparator.comparingLong(Range::begin).thenComparingLong(Range::end));
        Range prev = null;
        for (Range r : ranges) {
            if (prev != null && r.begin < prev.end) {
                throw fail("tensors '" + prev.name + "' data_offsets [" + prev.begin + ", " + prev.end + "] and '" + r.name
                        + "' [" + r.begin + ", " + r.end + "] overlap");
            }
            if (r.end > r.begin) prev = r;
        }
        long covered = 0;
        for (Range r : ranges) {
            if (r.begin != covered) {
                throw fail("tensor '" + r.name + "' data_offsets [" + r.begin + ", " + r.end + "] leave bytes [" + covered + ", "
                        + r.begin + ") of the data section unused (tensors must be stored back to back)");
            }
            covered = r.end;
        }
        if (covered != dataBytes) {
            throw fail("the tensors cover " + covered + " bytes but the data section after the header holds " + dataBytes
                    + " (header length or data_offsets are wrong, or the file is truncated or padded)");
        }
    }

    private void readMetadata(JsonNode m) {
        if (m.isNull()) return;
        if (!m.isObject()) throw fail("__metadata__ is not a JSON object");
        for (Map.Entry<String, JsonNode> e : m.properties()) {
            JsonNode v = e.getValue();
            metadata.put(e.getKey(), v.isTextual() ? v.textValue() : v.toString());
        }
    }

    private Tensor tensor(String name, JsonNode info, MemorySegment data, long base, List<Range> ranges) {
        if (!info.isObject()) throw fail("tensor '" + name + "' entry is not a JSON object");
        JsonNode dt = info.get("dtype");
        if (dt == null || !dt.isTextual()) throw fail("tensor '" + name + "' has no dtype");
        DType dtype;
        try {
            dtype = DType.fromSafetensors(dt.textValue());
        } catch (CortadoException e) {
            throw fail("tensor '" + name + "': " + e.getMessage());
        }
        long[] shape = longs(name, info.get("shape"), "shape", -1);
        long[] offsets = longs(name, info.get("data_offsets"), "data_offsets", 2);
        long numel = 1, bytes;
        try {
            for (long d : shape) numel = Math.multiplyExact(numel, d);
            bytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw fail("tensor '" + name + "' shape " + Arrays.toString(shape) + " overflows");
        }
        long begin = offsets[0], end = offsets[1];
        if (begin > end) throw fail("tensor '" + name + "' data_offsets [" + begin + ", " + end + "] are reversed");
        if (end > data.byteSize()) {
            throw fail("tensor '" + name + "' data_offsets [" + begin + ", " + end + "] run past end of file (data holds "
                    + data.byteSize() + " bytes from offset " + base + ")");
        }
        if (end - begin != bytes) {
            throw fail("tensor '" + name + "' data_offsets [" + begin + ", " + end + "] span " + (end - begin)
                    + " bytes but shape " + Arrays.toString(shape) + " of " + dtype + " needs " + bytes);
        }
        ranges.add(new Range(name, begin, end));
        return new Tensor(dtype, shape, data.asSlice(begin, bytes));
    }

    private long[] longs(String name, JsonNode arr, String field, int count) {
        if (arr == null || !arr.isArray() || (count >= 0 && arr.size() != count)) {
            throw fail("tensor '" + name + "' " + field + " is missing or not " + (count >= 0 ? "a pair of integers"
                    : "an array of integers"));
        }
        long[] out = new long[arr.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = arr.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw fail("tensor '" + name + "' " + field + " holds " + v + ", expected a non-negative integer");
            }
            out[i] = v.longValue();
        }
        return out;
    }

    private CortadoException fail(String what) {
        return new CortadoException("corrupt safetensors file " + file + ": " + what);
    }
}
