package dev.cortado.gguf;

import dev.cortado.CortadoException;
import dev.cortado.gguf.GgufFile.TensorInfo;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Tensor;
import dev.cortado.tensor.WeightShapes;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A GGUF model's weights by Hugging Face name, converted one tensor at a time when a family reads it, so that a load
 * never holds more than the packed weights plus one layer's converted copies (llama.cpp's own loader streams the same
 * way). F32/F16/BF16 tensors that need no re-layout are zero-copy views of the mapping (the backend packs them and
 * drops their pages). Quantized tensors become a {@link QuantizedMatrix} (lossless, {@link GgufTensors#quantized}),
 * q/k rows are un-permuted, and a quantized tensor read as floats is dequantized to float32; each conversion gets its
 * own arena, and the mapped pages it read are dropped at once (they stay in the page cache).
 *
 * <p>Lifetimes: the backends copy, pack or upload a weight when it is bound, so a converted copy is garbage once its
 * group is bound. The groups are the layers and the tensors outside them (embeddings, head, final norm); families bind
 * group by group (head and embeddings first, then layer by layer), so reading a tensor of another group frees every
 * converted copy of the others, and {@link #release} the rest. A copy used after it was freed fails with the arena's
 * IllegalStateException, never with a crash.
 */
final class GgufWeights {
    private static final Pattern LAYER = Pattern.compile("^(?:model\\.layers|h)\\.(\\d{1,6})\\.");

    private final Map<String, TensorInfo> floats, quants;
    private final Map<String, Integer> permuteHeads;
    /** Converted copies: "f:" + HF name (float) or "q:" + GGUF name (quantized: a tied head shares its embedding's). */
    private final Map<String, Converted> cache = new HashMap<>();
    private final Map<String, Tensor> tensorView;
    private final Map<String, QuantizedMatrix> quantizedView;
    private int layer = Integer.MIN_VALUE;
    private boolean released;

    private record Converted(Object value, Arena arena, int layer) {}

    /**
     * {@code floats}: HF name → tensor read as floats; {@code quants}: HF name → tensor read as a QuantizedMatrix;
     * {@code permuteHeads}: HF name → heads whose rows llama.cpp permuted (absent: none).
     */
    GgufWeights(Map<String, TensorInfo> floats, Map<String, TensorInfo> quants, Map<String, Integer> permuteHeads) {
        this.floats = floats;
        this.quants = quants;
        this.permuteHeads = permuteHeads;
        tensorView = new Lazy<>(floats, name -> tensor(name));
        quantizedView = new Lazy<>(quants, name -> quantized(name));
    }

    Map<String, Tensor> tensors() { return tensorView; }

    Map<String, QuantizedMatrix> quantized() { return quantizedView; }

    /** Frees every converted copy; the views are empty from now on (a late reader finds no weight, not freed memory). */
    synchronized void release() {
        released = true;
        for (Converted c : cache.values()) c.arena.close();
        cache.clear();
    }

    /** Bytes of converted copies alive now (tests: a load holds one layer's copies, not the model's). */
    synchronized long liveBytes() {
        long n = 0;
        for (Converted c : cache.values()) {
            if (c.value instanceof Tensor t) n += t.data().byteSize();
            else if (c.value instanceof QuantizedMatrix q) n += q.values().byteSize() + q.scales().byteSize() + (q.offsets() == null ? 0 : q.offsets().byteSize());
        }
        return n;
    }

    private synchronized Tensor tensor(String name) {
        TensorInfo t = floats.get(name);
        if (t == null || released) return null;
        int heads = permuteHeads.getOrDefault(name, 0);
        if (t.type().isFloat() && heads == 0) {
            enter(name);
            return GgufTensors.view(t); // nothing to free
        }
        return (Tensor) converted("f:" + name, name, t, a -> {
            Tensor x = GgufTensors.tensor(t, a); // a view of the mapping, or dequantized to float32 in a
            return heads > 0 ? unpermute(x, heads, t.name(), a) : x;
        });
    }

    private synchronized QuantizedMatrix quantized(String name) {
        TensorInfo t = quants.get(name);
        if (t == null || released) return null;
        int heads = permuteHeads.getOrDefault(name, 0);
        return (QuantizedMatrix) converted("q:" + t.name(), name, t, a -> {
            QuantizedMatrix q = GgufTensors.quantized(t, a);
            return heads > 0 ? unpermute(q, heads, t.name(), a) : q;
        });
    }

    private Object converted(String key, String name, TensorInfo t, java.util.function.Function<Arena, Object> convert) {
        int l = enter(name);
        Converted c = cache.get(key);
        if (c != null) return c.value;
        Arena a = Arena.ofShared();
        Object v;
        try {
            v = convert.apply(a);
        } catch (RuntimeException | Error e) {
            a.close();
            throw e;
        }
        cache.put(key, new Converted(v, a, l));
        unload(t.data()); // the copy holds everything the mapped bytes said
        return v;
    }

    /**
     * Notes that group {@code layerOf(name)} (a layer, or −1: the tensors outside the layers) is being bound: the
     * converted copies of the other groups go.
     */
    private int enter(String name) {
        int l = layerOf(name);
        if (l != layer) {
            layer = l;
            for (Iterator<Converted> it = cache.values().iterator(); it.hasNext(); ) {
                Converted c = it.next();
                if (c.layer != l) {
                    c.arena.close();
                    it.remove();
                }
            }
        }
        return l;
    }

    static int layerOf(String hfName) {
        Matcher m = LAYER.matcher(hfName);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** Drops the resident pages of a mapped tensor (best effort: only the peak RSS is affected). */
    static void unload(MemorySegment s) {
        if (!s.isNative() || !s.isMapped()) return;
        try {
            s.unload();
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            // best effort
        }
    }

    /** HF row of GGUF row {@code g}: llama.cpp stores each head's rows interleaved (LlamaModel.permute); this undoes it. */
    static int hfRow(int g, int headDim) {
        int h = g / headDim, k = g % headDim, half = headDim / 2;
        return h * headDim + (k & 1) * half + (k >> 1);
    }

    static void checkHeads(long rows, int heads, String name) {
        if (heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0) {
            throw new CortadoException("tensor '" + GgufFile.shown(name) + "' has " + rows + " rows, which " + heads + " heads of even size do not divide");
        }
    }

    private static QuantizedMatrix unpermute(QuantizedMatrix q, int heads, String name, Arena arena) {
        checkHeads(q.rows(), heads, name);
        int hd = q.rows() / heads;
        long rowBytes = (long) q.cols() * q.bits() / 8, rowScales = q.blocksPerRow() * 4L;
        MemorySegment v = arena.allocate(q.values().byteSize(), 64), s = arena.allocate(q.scales().byteSize(), 64);
        MemorySegment o = q.offsets() == null ? null : arena.allocate(q.offsets().byteSize(), 64);
        for (int g = 0; g < q.rows(); g++) {
            int r = hfRow(g, hd);
            MemorySegment.copy(q.values(), g * rowBytes, v, r * rowBytes, rowBytes);
            MemorySegment.copy(q.scales(), g * rowScales, s, r * rowScales, rowScales);
            if (o != null) MemorySegment.copy(q.offsets(), g * rowScales, o, r * rowScales, rowScales);
        }
        return new QuantizedMatrix(q.rows(), q.cols(), q.bits(), q.blockSize(), v, s, o, q.int8Activations());
    }

    private static Tensor unpermute(Tensor t, int heads, String name, Arena arena) {
        long rows = t.dim(0), cols = t.rank() == 1 ? 1 : t.dim(1);
        checkHeads(rows, heads, name);
        int hd = (int) (rows / heads);
        long rowBytes = cols * t.dtype().byteSize();
        MemorySegment out = arena.allocate(t.data().byteSize(), 64);
        for (int g = 0; g < rows; g++) MemorySegment.copy(t.data(), g * rowBytes, out, hfRow(g, hd) * rowBytes, rowBytes);
        return new Tensor(t.dtype(), t.shape(), out);
    }

    /** A read-only map whose values are converted on {@code get}; keys, sizes and shapes come from the tensor infos. */
    private final class Lazy<V> extends AbstractMap<String, V> implements WeightShapes {
        private final Map<String, TensorInfo> infos;
        private final java.util.function.Function<String, V> read;

        Lazy(Map<String, TensorInfo> infos, java.util.function.Function<String, V> read) {
            this.infos = infos;
            this.read = read;
        }

        private Set<String> names() {
            synchronized (GgufWeights.this) {
                return released ? Set.of() : Collections.unmodifiableSet(infos.keySet());
            }
        }

        @Override
        public V get(Object key) {
            return key instanceof String s && names().contains(s) ? read.apply(s) : null;
        }

        @Override
        public boolean containsKey(Object key) {
            return names().contains(key);
        }

        @Override
        public int size() {
            return names().size();
        }

        @Override
        public Set<String> keySet() {
            return names();
        }

        @Override
        public long[] shapeOf(String name) {
            TensorInfo t = names().contains(name) ? infos.get(name) : null;
            return t == null ? null : t.shape();
        }

        @Override
        public Object sourceOf(String name) {
            TensorInfo t = names().contains(name) ? infos.get(name) : null;
            return t == null ? null : t.name();
        }

        @Override
        public String layoutOf(String name) {
            TensorInfo t = names().contains(name) ? infos.get(name) : null;
            if (t == null || !GgufTensors.isQuantized(t.type())) return null;
            return GgufTensors.bits(t.type()) + "-bit block " + GgufTensors.block(t.type());
        }

        /** Entries convert their value only when asked for it. */
        @Override
        public Set<Entry<String, V>> entrySet() {
            Set<String> names = names();
            return new AbstractSet<>() {
                @Override
                public Iterator<Entry<String, V>> iterator() {
                    Iterator<String> it = names.iterator();
                    return new Iterator<>() {
                        public boolean hasNext() { return it.hasNext(); }

                        public Entry<String, V> next() {
                            String k = it.next();
                            return new Entry<>() {
                                public String getKey() { return k; }

                                public V getValue() { return get(k); }

                                public V setValue(V v) { throw new UnsupportedOperationException(); }
                            };
                        }
                    };
                }

                @Override
                public int size() {
                    return names.size();
                }
            };
        }
    }
}
