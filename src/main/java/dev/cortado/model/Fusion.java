package dev.cortado.model;

import dev.cortado.tensor.DType;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Load-time concatenation of projections that read the same input — q|k|v, gate|up — into one weight, so each runs
 * as one GEMM (DESIGN.md principle 3). Done once on the host before the weight is bound; parts keep their dtype when
 * they share it (bf16 stays 16-bit), else they are widened to float32. The concatenated host tensor lives in
 * GC-managed native memory and is dropped once the backend has bound it.
 */
public final class Fusion {
    private Fusion() {}

    private static DType common(List<Tensor> parts) {
        DType t = parts.getFirst().dtype();
        for (Tensor p : parts) if (p.dtype() != t) return DType.F32;
        return t == DType.F32 || t == DType.F16 || t == DType.BF16 ? t : DType.F32;
    }

    private static MemorySegment bytesOf(Tensor t, DType as) {
        if (t.dtype() == as) return t.data();
        return MemorySegment.ofArray(t.toFloatArray());
    }

    /** [out_i, in] parts (PyTorch layout) stacked into [Σ out_i, in]. */
    public static Tensor concatRows(List<Tensor> parts) {
        return concatRows(parts, Arena.ofAuto());
    }

    /** {@link #concatRows(List)} into {@code arena}. */
    public static Tensor concatRows(List<Tensor> parts, Arena arena) {
        long in = parts.getFirst().dim(1), rows = 0;
        for (Tensor p : parts) {
            if (p.rank() != 2 || p.dim(1) != in) throw new IllegalArgumentException("row concatenation needs [out, " + in + "] parts: " + p);
            rows += p.dim(0);
        }
        DType t = common(parts);
        long eb = t.byteSize();
        MemorySegment out = arena.allocate(rows * in * eb, 16);
        long at = 0;
        for (Tensor p : parts) {
            long n = p.numel() * eb;
            MemorySegment.copy(bytesOf(p, t), 0, out, at, n);
            at += n;
        }
        return new Tensor(t, new long[] {rows, in}, out);
    }

    /** [in, out_i] parts (ONNX MatMul layout) side by side into [in, Σ out_i]. */
    public static Tensor concatColumns(List<Tensor> parts) {
        return concatColumns(parts, Arena.ofAuto());
    }

    /** {@link #concatColumns(List)} into {@code arena}. */
    public static Tensor concatColumns(List<Tensor> parts, Arena arena) {
        long in = parts.getFirst().dim(0), cols = 0;
        for (Tensor p : parts) {
            if (p.rank() != 2 || p.dim(0) != in) throw new IllegalArgumentException("column concatenation needs [" + in + ", out] parts: " + p);
            cols += p.dim(1);
        }
        DType t = common(parts);
        long eb = t.byteSize();
        MemorySegment out = arena.allocate(in * cols * eb, 16);
        long col = 0;
        for (Tensor p : parts) {
            MemorySegment src = bytesOf(p, t);
            long w = p.dim(1) * eb;
            for (long r = 0; r < in; r++) MemorySegment.copy(src, r * w, out, (r * cols) * eb + col, w);
            col += w;
        }
        return new Tensor(t, new long[] {in, cols}, out);
    }

    /** Biases [out_i] (null: zeros) as one float32 [Σ out_i], or null when no part has one. */
    public static Tensor concatBiases(List<Tensor> biases, long[] outs) {
        if (biases.stream().allMatch(java.util.Objects::isNull)) return null;
        long n = 0;
        for (long o : outs) n += o;
        float[] out = new float[Math.toIntExact(n)];
        int at = 0;
        for (int i = 0; i < outs.length; i++) {
            Tensor b = biases.get(i);
            if (b != null) System.arraycopy(b.toFloatArray(), 0, out, at, (int) outs[i]);
            at += (int) outs[i];
        }
        return Tensor.of(out, n);
    }

    /**
     * Quantized [out_i, in] parts stacked row-wise (codes, scales and offsets are row-major per output feature), or
     * null when they differ in bits, block size or input width (then they stay separate projections).
     */
    public static QuantizedMatrix concatRows(QuantizedMatrix... parts) {
        return concatRows(Arena.ofAuto(), parts);
    }

    /** Whether quantized parts can be stacked row-wise: same bits, block size and input width. */
    public static boolean stackable(QuantizedMatrix... parts) {
        for (QuantizedMatrix q : parts) {
            if (q.bits() != parts[0].bits() || q.blockSize() != parts[0].blockSize() || q.cols() != parts[0].cols()
                    || q.int8Activations() != parts[0].int8Activations()) return false;
        }
        return true;
    }

    /** {@link #concatRows(QuantizedMatrix...)} into {@code a}. */
    public static QuantizedMatrix concatRows(Arena a, QuantizedMatrix... parts) {
        QuantizedMatrix f = parts[0];
        int rows = 0;
        boolean offsets = false;
        for (QuantizedMatrix q : parts) {
            if (q.bits() != f.bits() || q.blockSize() != f.blockSize() || q.cols() != f.cols() || q.int8Activations() != f.int8Activations()) return null;
            rows += q.rows();
            offsets |= q.offsets() != null;
        }
        long rowBytes = (long) f.cols() * f.bits() / 8, rowScales = 4L * f.blocksPerRow();
        MemorySegment values = a.allocate(rows * rowBytes, 16), scales = a.allocate(rows * rowScales, 16);
        MemorySegment offs = offsets ? a.allocate(rows * rowScales, 16) : null;   // zero-filled where a part has none
        long r = 0;
        for (QuantizedMatrix q : parts) {
            MemorySegment.copy(q.values(), 0, values, r * rowBytes, q.rows() * rowBytes);
            MemorySegment.copy(q.scales(), 0, scales, r * rowScales, q.rows() * rowScales);
            if (q.offsets() != null) MemorySegment.copy(q.offsets(), 0, offs, r * rowScales, q.rows() * rowScales);
            r += q.rows();
        }
        return new QuantizedMatrix(rows, f.cols(), f.bits(), f.blockSize(), values, scales, offs, f.int8Activations());
    }

    /**
     * Binds the concatenation of float parts ({@code columns}: [in, out_i] side by side, else [out_i, in] stacked) as one
     * Linear weight. The host concatenation lives only until the backend has bound it (not until a GC), and the parts'
     * memory-mapped pages are let go afterwards: the load never holds the file, the copy and the packed weight at once.
     */
    public static Tensor bind(dev.cortado.backend.Backend be, List<Tensor> parts, boolean columns) {
        // a backend that already holds the fused weight (the CPU pack cache) is not handed a concatenation to ignore
        if (parts.stream().allMatch(p -> p.rank() == 2)) {
            long out = 0;
            for (Tensor p : parts) out += p.dim(columns ? 1 : 0);
            long in = parts.getFirst().dim(columns ? 0 : 1);
            Tensor cached = be.cachedLinear(common(parts), columns ? new long[] {in, out} : new long[] {out, in}, !columns);
            if (cached != null) return cached;
        }
        Tensor w;
        try (Arena tmp = Arena.ofShared()) {
            w = columns ? be.linearWeight(concatColumns(parts, tmp)) : be.weightTransposed(concatRows(parts, tmp));
        }
        for (Tensor p : parts) unload(p.data());
        return w;
    }

    /** Binds stacked quantized parts (see {@link #concatRows(QuantizedMatrix...)}); null when they cannot be stacked. */
    public static Tensor bindQuantized(dev.cortado.backend.Backend be, QuantizedMatrix... parts) {
        try (Arena tmp = Arena.ofShared()) {
            QuantizedMatrix all = concatRows(tmp, parts);
            return all == null ? null : be.quantizedWeight(all);
        }
    }

    /** Drops the resident pages of a memory-mapped segment (best effort; they come back from the file if read again). */
    static void unload(MemorySegment m) {
        if (m.isNative() && m.isMapped()) {
            try {
                m.unload();
            } catch (RuntimeException | UnsatisfiedLinkError e) {
                // only the peak RSS is affected
            }
        }
    }
}
