package dev.cortado.backend.cpu;

import dev.cortado.CortadoException;
import dev.cortado.backend.Quantization;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Quantizer;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The weights of one {@link CpuBackend}: packed linear weights ({@link PackedWeight}), large tables and quantized
 * tables in one native arena, the opaque tensors that name them, and the pack cache of a quantizing load
 * ({@link PackCache}). The backend's weight methods delegate here; its ops look packed weights up with
 * {@link #packedOf}.
 */
final class CpuWeights {
    private final Quantization quantization;
    private final DType linearDtype;

    CpuWeights(Quantization quantization, DType linearDtype) {
        this.quantization = quantization;
        this.linearDtype = linearDtype;
    }

    /**
     * Weights held once: packed linear weights and large tables live in native memory of this arena (one per backend,
     * i.e. one per model), freed when the backend closes; the Java heap keeps only small vectors (biases, norms).
     */
    private final Arena arena = Arena.ofShared();
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    /** Packed linear weights by the address their opaque tensor carries (see {@link #handle}). */
    private final Map<Long, PackedWeight> packed = new ConcurrentHashMap<>();
    /** Weights packed on their first linear() because they did not come from linearWeight (heap: by array identity). */
    private final Map<Object, PackedWeight> packedLater = java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());
    /** Quantized embedding tables (--quantize-all) by the address of their opaque tensor. */
    final Map<Long, QuantizedMatrix> quantTables = new ConcurrentHashMap<>();
    /** Tied embedding tables read from a packed vocabulary head ({@link #tiedEmbedding}), by their key's address. */
    final Map<Long, PackedWeight> headTables = new ConcurrentHashMap<>();
    /** Tables at least this large (elements) go to native memory; smaller weights stay float32 arrays for the elementwise ops. */
    static final long NATIVE_TABLE = 1L << 22;

    public Tensor weight(Tensor host) {
        long n = host.numel();
        if (n > Integer.MAX_VALUE - 8) throw new CortadoException("weight too large for the CPU backend: " + host);
        if (host.rank() == 2 && n >= NATIVE_TABLE) return nativeTable(host);
        if (host.dtype() == DType.BF16) {
            short[] a = new short[(int) n];
            MemorySegment.copy(host.data(), Tensor.I16_LE, 0, a, 0, a.length);
            return new Tensor(DType.BF16, host.shape(), MemorySegment.ofArray(a));
        }
        return new Tensor(DType.F32, host.shape(), MemorySegment.ofArray(host.toFloatArray()));
    }

    /** A large 2-D table (embeddings) copied once into native memory: 16-bit stays 16-bit; quantized with --quantize-all. */
    private Tensor nativeTable(Tensor host) {
        if (quantization.enabled() && quantization.all()) {
            QuantizedMatrix q = Quantizer.quantize(host, true, quantization.bits(), arena);
            long addr = q.values().address();
            quantTables.put(addr, q);
            return handle(host.shape(), q.bits() == 8 ? DType.I8 : DType.U8, addr);
        }
        DType dt = switch (host.dtype()) {
            case BF16, F16 -> host.dtype();
            default -> quantization.enabled() ? DType.BF16 : DType.F32;
        };
        String request = cache == null ? null : "table " + host.dtype() + java.util.Arrays.toString(host.shape()) + " as " + dt;
        if (cache != null && cache.next(request) instanceof PackCache.Table(Tensor cached)) {
            cache.record(request, new PackCache.Table(cached));
            return cached;
        }
        Tensor t = Tensor.allocate(arena, dt, host.shape());
        MemorySegment d = t.data();
        if (dt == host.dtype()) {
            MemorySegment.copy(host.data(), 0, d, 0, d.byteSize());
        } else {
            for (long i = 0, n = host.numel(); i < n; i++) {
                float v = host.getFloat(i);
                if (dt == DType.F32) d.setAtIndex(Tensor.F32_LE, i, v);
                else d.setAtIndex(Tensor.I16_LE, i, PackedWeight.toBf16(v));
            }
        }
        unloadMapped(host);
        if (cache != null) cache.record(request, new PackCache.Table(t));
        return t;
    }

    /**
     * Drops the resident pages of a memory-mapped source once its packed copy exists (the mapping itself is closed by
     * the loader), so that a load never holds the file and the packed weights in RAM at once: peak RSS ≈ packed bytes.
     * The pages stay in the page cache; a later read (a tied table packed twice) faults them back in.
     */
    private static void unloadMapped(Tensor host) {
        MemorySegment d = host.data();
        if (d.isNative() && d.isMapped()) {
            try {
                d.unload();
            } catch (RuntimeException | UnsatisfiedLinkError e) {
                // best effort: only the peak RSS is affected
            }
        }
    }

    public Tensor linearWeight(Tensor host) {
        return packLinear(host, false, false);
    }

    public Tensor weightTransposed(Tensor host) {
        return packLinear(host, true, false);
    }

    public Tensor headWeight(Tensor host, boolean inOut) {
        return packLinear(host, !inOut, true);
    }

    /**
     * Packs an already quantized weight (GGUF blocks, MatMulNBits) keeping its codes; with the pack cache on, the packed
     * panels come from (or go to) the cache file like a --quantize load's.
     */
    public Tensor quantizedWeight(QuantizedMatrix q) {
        String request = cache == null ? null : quantizedRequest(q.rows(), q.cols());
        PackedWeight p = null;
        if (cache != null) cache.worth = true;
        if (cache != null && cache.next(request) instanceof PackCache.Packed(PackedWeight w)) {
            if (fits(w, q)) p = w;
            else cache.reject("entry " + w + " for " + q.bits() + "-bit blocks of " + q.blockSize());
        }
        if (p == null) p = PackedWeight.pack(q, arena);
        if (q.int8Activations()) p.int8Activations = true;   // not in the packed bytes: the cache entry's flags keep it
        if (cache != null) cache.record(request, new PackCache.Packed(p));
        Tensor t = register(p);
        for (MemorySegment m : new MemorySegment[] {q.values(), q.scales(), q.offsets()}) {
            if (m != null) unloadMapped(new Tensor(DType.U8, new long[] {m.byteSize()}, m));
        }
        return t;
    }

    /** What a pack-cache entry of an already quantized weight [rows, cols] answers (its bits and blocks: {@link #fits}). */
    private static String quantizedRequest(long rows, long cols) {
        return "quantized [" + rows + ", " + cols + "]";
    }

    /** Whether a cached packed weight is what {@link PackedWeight#pack(QuantizedMatrix, Arena)} makes of {@code q}. */
    private static boolean fits(PackedWeight w, QuantizedMatrix q) {
        PackedWeight.Format f = q.bits() == 4 && (q.blockSize() & 1) == 0 ? PackedWeight.Format.Q4 : PackedWeight.Format.Q8;
        return w.format == f && w.k == q.cols() && w.n == q.rows() && w.blockSize == q.blockSize();
    }

    /**
     * The packed weight of an already quantized [rows, cols] matrix when the pack cache holds it as the load's next
     * entry, or null: the caller then converts the source and binds it with {@link #quantizedWeight} (or
     * {@link #quantizedTable}, {@code table}). A hit skips the conversion (GGUF blocks to the canonical layout) too.
     */
    public Tensor cachedQuantized(long rows, long cols, boolean table) {
        if (cache == null) return null;
        String request = quantizedRequest(rows, cols);
        if (!cache.nextIs(request) || !(cache.next(request) instanceof PackCache.Packed(PackedWeight w))) return null;
        cache.worth = true;
        cache.record(request, new PackCache.Packed(w));
        Tensor t = register(w);
        return table ? tiedEmbedding(t) : t;
    }

    /**
     * Packs a float Linear weight once into native memory ({@code transposed}: given [out, in]). With --quantize it is
     * quantized first (the vocabulary head only with --quantize-all; otherwise it stays 16-bit).
     */
    private Tensor packLinear(Tensor host, boolean transposed, boolean head) {
        if (host.rank() != 2) throw new IllegalArgumentException("linear weight must be 2-D: " + host);
        boolean quantize = quantization.enabled() && (!head || quantization.all());
        DType target = linearTarget(host.dtype());
        String request = cache == null ? null : linearRequest(host.dtype(), host.shape(), transposed, head);
        PackedWeight p = cache != null && cache.next(request) instanceof PackCache.Packed(PackedWeight w) ? w : null;
        boolean cached = p != null;
        if (p == null && quantize) {
            try (Arena tmp = Arena.ofShared()) {
                p = PackedWeight.pack(Quantizer.quantize(host, transposed, quantization.bits(), tmp), arena);
            }
        } else if (p == null) {
            p = PackedWeight.pack(host, transposed, target, arena);
        }
        if (cache != null) cache.record(request, new PackCache.Packed(p));
        Tensor t = register(p);
        if (!cached) unloadMapped(host);
        return t;
    }

    /** The storage type of a float linear weight of type {@code dt} that is not quantized. */
    private DType linearTarget(DType dt) {
        return switch (dt) {
            case BF16, F16 -> dt;
            default -> quantization.enabled() ? DType.BF16 : linearDtype;
        };
    }

    /** What a pack-cache entry of a linear weight answers: the source's type, shape and layout, and what it is packed as. */
    private String linearRequest(DType dt, long[] shape, boolean transposed, boolean head) {
        boolean quantize = quantization.enabled() && (!head || quantization.all());
        return "linear " + dt + java.util.Arrays.toString(shape) + (transposed ? " [out,in]" : " [in,out]") + " as "
                + (quantize ? "int" + quantization.bits() : linearTarget(dt).toString());
    }

    public Tensor cachedLinear(DType dtype, long[] shape, boolean outIn) {
        if (cache == null || shape.length != 2) return null;
        String request = linearRequest(dtype, shape, outIn, false);
        if (!cache.nextIs(request) || !(cache.next(request) instanceof PackCache.Packed(PackedWeight w))) return null;
        cache.record(request, new PackCache.Packed(w));
        return register(w);
    }

    /** The pack cache of the load in progress ({@link #beginLoad}), or null. */
    private PackCache.Session cache;
    /** Whether loads use the pack cache: null = {@code cortado.packCache} (default on). */
    private Boolean packCache;

    /** Turns the pack cache on or off for this backend's loads, whatever {@code cortado.packCache} says (tests). */
    void packCache(boolean on) {
        this.packCache = on;
    }

    /**
     * A load of {@code source} begins: its packed weights come from (or go to) the pack cache beside the model
     * ({@link PackCache}) unless it is off. The file is written for loads that quantize ({@code --quantize}) or repack
     * quantized blocks (GGUF, MatMulNBits); a load of float weights only (laid out in panels, widened or narrowed) writes
     * one only with {@code -Dcortado.packCache=all} ({@link PackCache#floatsByDefault}: a second copy of the weights on
     * disk), but reads one that exists.
     */
    public void beginLoad(java.nio.file.Path source) {
        cache = null;
        if (source == null || !(packCache != null ? packCache : PackCache.enabledByDefault())) return;
        cache = PackCache.open(source, "quantization " + quantization + ", linear " + linearDtype, arena);
        if (cache != null) cache.worth = quantization.enabled() || (packCacheFloats != null ? packCacheFloats : PackCache.floatsByDefault());
    }

    /** Whether float-only loads write the cache: null = {@code cortado.packCache=all} (default off). */
    private Boolean packCacheFloats;

    void packCacheFloats(boolean on) {
        this.packCacheFloats = on;
    }

    public void endLoad(boolean ok) {
        PackCache.Session s = cache;
        cache = null;
        packCacheHits = s == null || !s.worth && s.hits == 0 ? -1 : s.hits;
        if (s != null) s.finish(ok);
    }

    /** For tests and logs: how many weights the last load took from the pack cache (−1: no cache, or a float load not cached). */
    int packCacheHits = -1;

    /** Packed as a [vocab, hidden] head that no linear() reads, and served like a tied table ({@link #tiedEmbedding}). */
    public Tensor quantizedTable(QuantizedMatrix q) {
        return tiedEmbedding(quantizedWeight(q));
    }

    /**
     * A tied table [vocab, hidden] whose row {@code id} is output column {@code id} of the packed head (widened as the
     * head's GEMV widens it): the head is the only copy. Its key is a distinct small allocation of this arena.
     */
    public Tensor tiedEmbedding(Tensor head) {
        if (head == null || !head.isOnDevice()) return null;
        PackedWeight p = packed.get(head.data().address());
        if (p == null) return null;
        long key = arena.allocate(8, 8).address();
        headTables.put(key, p);
        DType dt = dtypeOf(p.format);
        return handle(new long[] {p.n, p.k}, dt, key);
    }

    /** The element type a handle of a packed weight in this format reports. */
    private static DType dtypeOf(PackedWeight.Format f) {
        return switch (f) {
            case F32 -> DType.F32;
            case BF16 -> DType.BF16;
            case F16 -> DType.F16;
            case Q8 -> DType.I8;
            case Q4 -> DType.U8;
        };
    }

    /** An opaque [in, out] tensor naming a packed weight: its segment is only a key (never dereferenced, like a device tensor). */
    private Tensor register(PackedWeight p) {
        // a chosen mode (--activations) has the last word; the default adds int8 for --quantize int4 to what a file asks
        if (p.format == PackedWeight.Format.Q4) {
            if (quantization.activationsChosen()) p.int8Activations = quantization.int8Activations();
            else if (quantization.int8Activations()) p.int8Activations = true;
        }
        packed.put(p.data.address(), p);
        DType dt = dtypeOf(p.format);
        return handle(new long[] {p.k, p.n}, dt, p.data.address());
    }

    private static Tensor handle(long[] shape, DType dt, long address) {
        return Tensor.onDevice(dt, shape, MemorySegment.ofAddress(address).reinterpret(Tensor.numel(shape) * dt.byteSize()));
    }

    PackedWeight packedOf(Tensor w) {
        if (w.isOnDevice()) {
            PackedWeight p = packed.get(w.data().address());
            if (p == null) throw new IllegalArgumentException("not a weight of this CPU backend (use Backend.linearWeight): " + w);
            return p;
        }
        if (w.rank() != 2) throw new IllegalArgumentException("linear weight must be 2-D: " + w);
        Object key = w.data().heapBase().orElse(null);
        if (key == null) {
            PackedWeight p = packed.get(w.data().address());
            if (p != null) return p;
            p = PackedWeight.pack(w, false, plainTarget(w), arena);
            packed.put(w.data().address(), p);
            return p;
        }
        PackedWeight p = packedLater.get(key);
        if (p != null) return p;
        p = PackedWeight.pack(w, false, plainTarget(w), arena);
        packedLater.put(key, p);   // an unpacked weight passed to linear(): packed once, cached by identity
        return p;
    }

    private static DType plainTarget(Tensor w) {
        return w.dtype() == DType.BF16 || w.dtype() == DType.F16 ? w.dtype() : DType.F32;
    }

    /** Bytes of native memory holding this backend's packed weights and tables. */
    public long weightBytes() {
        long b = 0;
        for (PackedWeight p : packed.values()) b += p.bytes();
        return b;
    }

    void close() {
        if (!closed.compareAndSet(false, true)) return;
        packed.clear();
        packedLater.clear();
        quantTables.clear();
        headTables.clear();
        arena.close();
    }
}
