package dev.cortado.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a float32 {@code .safetensors} file whose tensors are generated on the fly (seeded), streaming in chunks so
 * that a multi-GB model never sits in memory. Tensors are contiguous (no holes, as the format requires); the header is
 * space-padded so the data starts 64-byte aligned. Returns each tensor's absolute file offset, which lets an ONNX
 * graph point its external data straight into this file (one copy of the weights on disk for both engines).
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    /** How a tensor's values are made: N(0, std)-like (uniform with that std), or a constant. */
    public record Init(double std, float constant) {
        public static Init random(double std) { return new Init(std, 0f); }
        public static Init constant(float c) { return new Init(0, c); }
    }

    public record Entry(String name, long[] shape, Init init) {
        public long numel() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    /** Where a tensor's bytes lie in the written file. */
    public record Location(long offset, long length) {}

    public static Map<String, Location> write(Path file, List<Entry> entries, long seed, Map<String, String> metadata) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long off = 0;
        for (Entry e : entries) {
            ObjectNode t = header.putObject(e.name());
            t.put("dtype", "F32");
            var shape = t.putArray("shape");
            for (long d : e.shape()) shape.add(d);
            t.putArray("data_offsets").add(off).add(off + 4 * e.numel());
            off += 4 * e.numel();
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (int) (((8 + h.length + 63) / 64) * 64 - 8);
        byte[] hp = new byte[padded];
        java.util.Arrays.fill(hp, (byte) ' ');
        System.arraycopy(h, 0, hp, 0, h.length);
        long dataStart = 8 + padded;
        Map<String, Location> where = new LinkedHashMap<>();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).flip();
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(hp));
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
            long pos = dataStart;
            for (Entry e : entries) {
                where.put(e.name(), new Location(pos, 4 * e.numel()));
                SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + e.name().hashCode());
                float a = (float) (e.init().std() * Math.sqrt(3));
                long left = e.numel();
                while (left > 0) {
                    int n = (int) Math.min(left, buf.capacity() / 4);
                    buf.clear();
                    if (e.init().std() > 0) {
                        for (int i = 0; i < n; i++) buf.putFloat((float) ((2 * r.nextDouble() - 1) * a));
                    } else {
                        for (int i = 0; i < n; i++) buf.putFloat(e.init().constant());
                    }
                    buf.flip();
                    writeFully(ch, buf);
                    left -= n;
                }
                pos += 4 * e.numel();
            }
        } catch (IOException ex) {
            throw new CortadoException("cannot write " + file + ": " + ex.getMessage(), ex);
        }
        return where;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}
