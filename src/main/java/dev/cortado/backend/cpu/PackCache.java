package dev.cortado.backend.cpu;

import dev.cortado.SharedPaths;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The on-disk cache of what a load packs: the panels of every {@link PackedWeight} (float weights laid out or
 * converted, weights quantized by {@code --quantize}, GGUF and MatMulNBits blocks repacked) and the converted embedding
 * tables, written after the first load to {@code <model dir>/.cortado-cache/<key>.bin} (a GGUF file: beside it), so
 * that the next load with the same options maps that file read-only and wraps its panels (no conversion, no
 * quantization, no packing, no copy; the pages count as file pages, shared with the page cache).
 * <p>A load asks for its weights in a fixed order, so the cache is a sequence: the n-th pack of this load is the n-th
 * entry of the file when both describe the same request (kind, source dtype and shape, layout). The file's name and
 * header carry the key: format {@link #VERSION} and a hash of the packing code ({@link #CODE}), the backend's options (quantization, linear dtype), its layout
 * constants ({@link PackedWeight#NR}, vector width) and every model file's name, size, modification time and a
 * SHA-256 of its first 256 KiB (the safetensors/ONNX/GGUF header; a GGUF file is keyed on itself alone). On open the magic, version, key, file size, header
 * checksum and every entry's offset and length are checked; each entry's CRC32C is checked before it is used. Any
 * mismatch, truncation or corruption: one warning line, a fresh pack from that entry on, and the file is rewritten
 * at the end of the load (never a crash, never a wrong weight).
 * <p>Off with {@code -Dcortado.packCache=false} (CLI {@code --no-cache}). An unwritable model folder (or one under
 * the development shared folder, {@link SharedPaths}, or a disk that would keep less than {@link #FREE_MARGIN} free)
 * is skipped silently (a DEBUG log line). Clear it by deleting
 * {@code .cortado-cache/}.
 */
final class PackCache {
    /** Bump when the file layout or anything a packed panel's bytes depend on changes. */
    static final int VERSION = 1;
    static final String DIR = ".cortado-cache";
    private static final long MAGIC = 0x4B434150_54524F43L; // "CORTPACK" read as a little-endian long
    /** The first entry starts on a page; each entry on 64 bytes (PackedWeight's alignment). */
    private static final int PAGE = 4096, ALIGN = 64;
    private static final System.Logger LOG = System.getLogger(PackCache.class.getName());

    private PackCache() {}

    /** Whether the cache is on by default ({@code cortado.packCache}, default true). */
    /**
     * Whether loads of float weights only (no quantizing, no quantized blocks) write a cache file too
     * ({@code -Dcortado.packCache=all}; off by default: the file is a second copy of the model's weights — 4.9 GB beside
     * a Llama-3.2-1B fp32 — and writing it made that first load 3.5× slower, for a cached load of 1.5 s instead of 9-11 s
     * of CPU on a 2-vCPU VM). A cache file that exists is read either way.
     */
    static boolean floatsByDefault() {
        return "all".equalsIgnoreCase(System.getProperty("cortado.packCache", "true"));
    }

    static boolean enabledByDefault() {
        return !"false".equalsIgnoreCase(System.getProperty("cortado.packCache", "true"));
    }

    /** One cached object: a packed weight or a native table. */
    sealed interface Item permits Packed, Table {}

    record Packed(PackedWeight weight) implements Item {}

    record Table(Tensor table) implements Item {}

    /** An entry of the file: what request it answers, and where its bytes are. */
    private record Entry(String request, byte kind, byte format, int k, int n, int blockSize, byte flags,
                         byte dtype, long[] shape, long offset, long length, int crc) {}

    private static final byte PACKED = 1, TABLE = 2;

    /**
     * A cache session for one load of {@code source} (a model folder or file); null when there is nothing to key it
     * on. {@code options}: the backend's settings that change packed bytes.
     */
    static Session open(Path source, String options, Arena arena) {
        try {
            boolean folder = Files.isDirectory(source);
            Path dir = folder ? source : source.toAbsolutePath().getParent();
            if (dir == null || CODE == null) return null;   // no class bytes to key on: no cache (never a stale layout)
            // a file (a GGUF file, an .onnx file) has its own cache files beside it: its name is part of the options, so
            // that two models in one folder neither share nor prune each other's files
            if (!folder) options += "\nfile " + source.getFileName();
            String key = key(dir, options, singleFile(source) ? List.of(source.toAbsolutePath()) : modelFiles(dir));
            // <options hash>-<key hash>.bin: a later file for the same options replaces one made stale by a changed model file
            // (the options prefix leaves out the format version and code hash: an upgrade's file replaces the old build's)
            String opts = options + "\nNR " + PackedWeight.NR + " vector " + Simd.VECTOR + ' ' + (Simd.VECTOR ? CpuMatmul.L : 0);
            Path file = dir.resolve(DIR).resolve(sha256(opts.getBytes(StandardCharsets.UTF_8)).substring(0, 8) + "-"
                    + sha256(key.getBytes(StandardCharsets.UTF_8)).substring(0, 24) + ".bin");
            Session s = new Session(dir, file, key);
            if (Files.isRegularFile(file)) s.map(arena);
            return s;
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "pack cache off for " + source + ": " + e);
            return null;
        }
    }

    /**
     * Whether {@code source} is a model in one file: a GGUF file (weights, config and tokenizer inside) is keyed on itself
     * alone, not on the other files of its folder (other GGUF files, say). An .onnx file may have external data beside
     * it: it is keyed on its folder's files like a model folder.
     */
    static boolean singleFile(Path source) {
        return Files.isRegularFile(source) && source.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gguf");
    }

    /** The files of a model folder (and its onnx/ subfolder) that key its cache: all but hidden ones. */
    private static List<Path> modelFiles(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path d : new Path[] {dir, dir.resolve("onnx")}) {
            if (!Files.isDirectory(d)) continue;
            try (Stream<Path> s = Files.list(d)) {
                s.filter(p -> !p.getFileName().toString().startsWith(".") && Files.isRegularFile(p)).forEach(files::add);
            }
        }
        return files;
    }

    /** Format version, options, layout constants and every model file's name, size, mtime and header hash. */
    private static String key(Path dir, String options, List<Path> modelFiles) throws IOException {
        StringBuilder b = new StringBuilder("cortado pack cache v").append(VERSION).append(' ').append(CODE).append('\n').append(options)
                .append("\nNR ").append(PackedWeight.NR).append(" vector ").append(Simd.VECTOR).append(' ').append(Simd.VECTOR ? CpuMatmul.L : 0).append('\n');
        List<Path> files = new ArrayList<>(modelFiles);
        files.sort(null);
        for (Path f : files) {
            b.append(dir.relativize(f)).append(' ').append(Files.size(f)).append(' ')
                    .append(Files.getLastModifiedTime(f).toMillis()).append(' ').append(headHash(f)).append('\n');
        }
        return b.toString();
    }

    /**
     * The loaders above this package whose conversions decide what reaches the packer (GGUF blocks to the canonical
     * quantized layout and llama.cpp's q/k row order undone; MatMulNBits codes, scales and zero points; q|k|v rows
     * stacked), hashed by their class files' resource names: the backend does not depend on those packages.
     */
    private static final String[] LOADERS = {"dev/cortado/gguf/GgufTensors", "dev/cortado/gguf/GgufWeights",
            "dev/cortado/model/QuantizedLinears", "dev/cortado/model/Fusion", "dev/cortado/model/WeightNames"};

    /**
     * A hash of the compiled classes whose code decides a packed weight's bytes (the quantizer, the packer, the backend's
     * choice of formats, this file format): a Cortado build that changes any of them never reads an older build's file,
     * even if {@link #VERSION} was not bumped.
     */
    static final String CODE = codeHash(dev.cortado.tensor.Quantizer.class, dev.cortado.tensor.FloatRows.class,
            dev.cortado.tensor.QuantizedMatrix.class, PackedWeight.class, CpuBackend.class, CpuWeights.class, PackCache.class);

    private static String codeHash(Class<?>... classes) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Class<?> c : classes) {
                try (InputStream in = c.getResourceAsStream(c.getSimpleName() + ".class")) {
                    if (in == null) return null;
                    md.update(in.readAllBytes());
                }
            }
            for (String name : LOADERS) {
                try (InputStream in = PackCache.class.getResourceAsStream("/" + name + ".class")) {
                    if (in == null) return null;
                    md.update(in.readAllBytes());
                }
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (IOException | NoSuchAlgorithmException e) {
            return null;
        }
    }

    /** Bytes of each model file hashed into the key: its header (safetensors, ONNX, GGUF metadata) and then some. */
    private static final int HEAD_BYTES = 256 << 10;

    private static String headHash(Path f) throws IOException {
        try (InputStream in = Files.newInputStream(f)) {
            return sha256(in.readNBytes(HEAD_BYTES)).substring(0, 32);
        }
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static int crc(MemorySegment s) {
        CRC32C c = new CRC32C();
        for (long o = 0, n = s.byteSize(); o < n; o += 1 << 30) c.update(s.asSlice(o, Math.min(1L << 30, n - o)).asByteBuffer());
        return (int) c.getValue();
    }

    /** Disk space a written cache file leaves free at least (else it is not written). */
    static final long FREE_MARGIN = 256L << 20;

    /** The cache of one load: reads the file's entries in order, records what the load packed, rewrites when needed. */
    static final class Session {
        final Path dir, file;
        private final String key;
        private List<Entry> entries;
        private MemorySegment mapped;
        private int cursor;
        private boolean broken, warned;
        private final List<String> requests = new ArrayList<>();
        private final List<Item> items = new ArrayList<>();
        int hits;
        /** Whether this load's file is worth writing: it quantized or repacked quantized blocks, or float caching is on. */
        boolean worth = true;

        Session(Path dir, Path file, String key) {
            this.dir = dir;
            this.file = file;
            this.key = key;
        }

        /** Whether this load found a valid file (so far every request matched it). */
        boolean hit() {
            return mapped != null && !broken;
        }

        private void map(Arena arena) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size < 24) throw new IOException("truncated (" + size + " bytes)");
                MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                entries = parse(m, size);
                mapped = m;
            } catch (IOException | RuntimeException e) {
                warn("is unreadable (" + e.getMessage() + ")");
                broken = true;
            }
        }

        private List<Entry> parse(MemorySegment m, long size) throws IOException {
            ByteBuffer head = m.asSlice(0, 16).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if (head.getLong(0) != MAGIC) throw new IOException("not a Cortado pack cache");
            if (head.getInt(8) != VERSION) throw new IOException("version " + head.getInt(8) + ", expected " + VERSION);
            int len = head.getInt(12);
            if (len <= 0 || 16L + len + 4 > size) throw new IOException("truncated header");
            byte[] h = m.asSlice(16, len).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            CRC32C c = new CRC32C();
            c.update(h);
            if ((int) c.getValue() != m.asSlice(16 + len, 4).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getInt(0)) {
                throw new IOException("header checksum mismatch");
            }
            DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(h));
            String k = in.readUTF();
            if (!k.equals(key)) throw new IOException("written for other files or options");
            long fileSize = in.readLong();
            if (fileSize != size) throw new IOException("size " + size + ", expected " + fileSize);
            int count = in.readInt();
            if (count < 0 || count > 1 << 20) throw new IOException("bad entry count " + count);
            List<Entry> es = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                String req = in.readUTF();
                byte kind = in.readByte(), format = in.readByte(), flags = in.readByte(), dtype = in.readByte();
                int k0 = in.readInt(), n = in.readInt(), bs = in.readInt(), rank = in.readInt();
                if (rank < 0 || rank > 8) throw new IOException("bad rank");
                long[] shape = new long[rank];
                for (int r = 0; r < rank; r++) shape[r] = in.readLong();
                long off = in.readLong(), length = in.readLong();
                int crc = in.readInt();
                if (off < 16L + len + 4 || length < 0 || off % 64 != 0 || off > size || length > size - off) {
                    throw new IOException("entry " + i + " out of bounds");
                }
                es.add(new Entry(req, kind, format, k0, n, bs, flags, dtype, shape, off, length, crc));
            }
            return es;
        }

        /**
         * The cached answer to the next request of this load ({@code request} describes it), or null: the caller packs
         * it and {@link #record}s it. A mismatch or a bad checksum ends the file's use for this load (one warning).
         */
        Item next(String request) {
            if (mapped == null || broken) return null;
            if (cursor >= entries.size()) {
                warn("has fewer weights than this load asks for");
                broken = true;
                return null;
            }
            Entry e = entries.get(cursor++);
            try {
                if (!e.request.equals(request)) throw new IllegalArgumentException("entry " + (cursor - 1) + " is '" + e.request + "', the load asks for '" + request + "'");
                MemorySegment d = mapped.asSlice(e.offset, e.length);
                if (crc(d) != e.crc) throw new IllegalArgumentException("checksum mismatch in entry " + (cursor - 1));
                Item it = switch (e.kind) {
                    case PACKED -> {
                        PackedWeight w = PackedWeight.wrap(PackedWeight.Format.values()[e.format], e.k, e.n, e.blockSize,
                                (e.flags & 1) != 0, (e.flags & 2) != 0, (e.flags & 4) != 0, d);
                        // how the weight multiplies activations: not in its bytes, but what the packing load decided (a GGUF hit
                        // has no QuantizedMatrix to ask)
                        w.int8Activations = (e.flags & 8) != 0;
                        yield new Packed(w);
                    }
                    case TABLE -> {
                        DType dt = DType.values()[e.dtype];
                        if (Tensor.numel(e.shape) * dt.byteSize() != e.length) throw new IllegalArgumentException("table size mismatch");
                        yield new Table(new Tensor(dt, e.shape, d));
                    }
                    default -> throw new IllegalArgumentException("unknown entry kind " + e.kind);
                };
                hits++;
                return it;
            } catch (RuntimeException x) {
                warn("does not match this load (" + x.getMessage() + ")");
                broken = true;
                return null;
            }
        }

        /**
         * The item {@link #next} just answered does not fit what the load holds (its caller checked it against the
         * source): the file is not used from here on (one warning) and is rewritten at the end.
         */
        void reject(String why) {
            warn("does not match this load (" + why + ")");
            broken = true;
            hits--;
        }

        /** Whether the file's next entry answers {@code request} (nothing is checked or consumed). */
        boolean nextIs(String request) {
            return mapped != null && !broken && cursor < entries.size() && entries.get(cursor).request.equals(request);
        }

        /** What the load packed for {@code request} (cached or fresh), in order: the content of a rewrite. */
        void record(String request, Item item) {
            requests.add(request);
            items.add(item);
        }

        /**
         * The load ended: when it succeeded and the file was absent, stale or did not match, writes it (to a temporary
         * file, then an atomic rename). Failures to write are silent (a DEBUG line): the cache is an optimization.
         */
        void finish(boolean ok) {
            if (!ok || items.isEmpty() || !worth || (hit() && cursor == entries.size())) return;
            if (mapped != null && !broken) warn("has more weights than this load asked for");
            Path tmp = null;
            try {
                Path shared = SharedPaths.root();
                if (shared != null && dir.toRealPath().startsWith(shared.toRealPath())) {
                    LOG.log(System.Logger.Level.DEBUG, "pack cache not written under the shared folder: " + dir);
                    return;
                }
                Files.createDirectories(file.getParent());
                long bytes = 0;
                for (Item it : items) bytes += it instanceof Packed(PackedWeight w) ? w.data.byteSize() : ((Table) it).table().data().byteSize();
                long free = Files.getFileStore(file.getParent()).getUsableSpace();
                if (free < bytes + FREE_MARGIN) {   // the cache never fills a disk: it is an optimization
                    LOG.log(System.Logger.Level.DEBUG, "pack cache not written to " + file + ": " + bytes + " bytes with " + free + " free");
                    return;
                }
                tmp = file.resolveSibling(file.getFileName() + "." + ProcessHandle.current().pid() + "." + System.nanoTime() + ".tmp");
                Files.createFile(tmp);   // the umask's permissions (a temporary file's would be owner-only)
                write(tmp);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                tmp = null;
                pruneStale();
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "pack cache not written to " + file + ": " + e);
            } finally {
                if (tmp != null) {
                    try {
                        Files.deleteIfExists(tmp);
                    } catch (IOException ignored) {
                        // best effort
                    }
                }
            }
        }

        /** Deletes the files of the same options written for other (older) model files: they can never match again. */
        private void pruneStale() throws IOException {
            String name = file.getFileName().toString(), prefix = name.substring(0, name.indexOf('-') + 1);
            try (Stream<Path> s = Files.list(file.getParent())) {
                for (Path p : s.toList()) {
                    String n = p.getFileName().toString();
                    if (n.startsWith(prefix) && n.endsWith(".bin") && !n.equals(name)) Files.deleteIfExists(p);
                }
            }
        }

        private void write(Path to) throws IOException {
            int n = items.size();
            List<MemorySegment> blobs = new ArrayList<>(n);
            for (Item it : items) blobs.add(it instanceof Packed p ? p.weight().data : ((Table) it).table().data());
            // the header's length does not depend on the offsets (fixed-width fields): lay it out once with zeros, then for real
            byte[] header = header(blobs, new long[n], 0);
            long at = (16L + header.length + 4 + PAGE - 1) / PAGE * PAGE;
            long[] offsets = new long[n];
            for (int i = 0; i < n; i++) {
                offsets[i] = at;
                at = align(at + blobs.get(i).byteSize());
            }
            header = header(blobs, offsets, at);
            try (FileChannel ch = FileChannel.open(to, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer head = ByteBuffer.allocate(16 + header.length + 4).order(ByteOrder.LITTLE_ENDIAN);
                CRC32C c = new CRC32C();
                c.update(header);
                head.putLong(MAGIC).putInt(VERSION).putInt(header.length).put(header).putInt((int) c.getValue()).flip();
                writeFully(ch, head, 0);
                for (int i = 0; i < n; i++) {
                    MemorySegment b = blobs.get(i);
                    for (long o = 0; o < b.byteSize(); o += 1 << 30) {
                        writeFully(ch, b.asSlice(o, Math.min(1L << 30, b.byteSize() - o)).asByteBuffer(), offsets[i] + o);
                    }
                }
                if (ch.size() < at) writeFully(ch, ByteBuffer.allocate((int) (at - ch.size())), ch.size());
            }
        }

        private static void writeFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
            while (b.hasRemaining()) at += ch.write(b, at);
        }

        private byte[] header(List<MemorySegment> blobs, long[] offsets, long fileSize) throws IOException {
            ByteArrayOutputStream bo = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bo);
            out.writeUTF(key);
            out.writeLong(fileSize);
            out.writeInt(items.size());
            for (int i = 0; i < items.size(); i++) {
                out.writeUTF(requests.get(i));
                Item it = items.get(i);
                MemorySegment b = blobs.get(i);
                if (it instanceof Packed(PackedWeight p)) {
                    out.writeByte(PACKED);
                    out.writeByte(p.format.ordinal());
                    out.writeByte((p.offsets ? 1 : 0) | (p.half ? 2 : 0) | (p.centred ? 4 : 0) | (p.int8Activations ? 8 : 0));
                    out.writeByte(0);
                    out.writeInt(p.k);
                    out.writeInt(p.n);
                    out.writeInt(p.blockSize);
                    out.writeInt(0);
                } else {
                    Tensor t = ((Table) it).table();
                    out.writeByte(TABLE);
                    out.writeByte(0);
                    out.writeByte(0);
                    out.writeByte(t.dtype().ordinal());
                    out.writeInt(0);
                    out.writeInt(0);
                    out.writeInt(0);
                    out.writeInt(t.rank());
                    for (long d : t.shape()) out.writeLong(d);
                }
                out.writeLong(offsets[i]);
                out.writeLong(b.byteSize());
                out.writeInt(offsets[i] == 0 ? 0 : crc(b));
            }
            out.flush();
            return bo.toByteArray();
        }

        private static long align(long v) {
            return (v + ALIGN - 1) / ALIGN * ALIGN;
        }

        private void warn(String why) {
            if (warned) return;
            warned = true;
            System.err.println("cortado: WARNING: pack cache " + file + " " + why + "; packing the weights afresh (the file is rewritten)");
        }
    }
}
