package dev.cortado.model;

import dev.cortado.CortadoException;
import dev.cortado.model.GraphTracer.Const;
import dev.cortado.model.GraphTracer.LinearOp;
import dev.cortado.onnx.Node;
import dev.cortado.tensor.DType;
import dev.cortado.tensor.Int8Matrix;
import dev.cortado.tensor.QuantizedMatrix;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Quantized linears of ONNX graphs, traced like a MatMul with a constant weight ({@link GraphTracer#linears}):
 * <ul>
 *   <li>{@code com.microsoft.MatMulNBits} (ORT-GenAI / {@code MatMulNBitsQuantizer} int4 and int8 exports): B
 *       [N, blocks, blob] with blockwise scales and optional zero points → a {@link QuantizedMatrix} (rows = N, cols = K),
 *       bound with {@code Backend.quantizedWeight};</li>
 *   <li>{@code DynamicQuantizeLinear} → {@code MatMulInteger} → {@code Cast} → {@code Mul}(activation scale · weight
 *       scale) (onnxruntime's {@code quantize_dynamic}) → an {@link Int8Matrix}, bound with {@code Backend.int8Weight}.</li>
 * </ul>
 * Anything else about them (g_idx, 2/3-bit codes, blob sizes that do not match K/N, zero points of other shapes) is
 * one clear error naming the node.
 */
public final class QuantizedLinears {
    private QuantizedLinears() {}

    /** A MatMulNBits node as a linear: weight {@code op.nbits()} [N, K], bias from input 5 or a following Add. */
    static LinearOp matMulNBits(GraphTracer t, Node n) {
        QuantizedMatrix q = nbitsWeight(t, n);
        Const bias = null;
        if (!n.input(5).isEmpty()) {
            bias = t.constant(n.input(5));
            if (bias == null || bias.tensor().numel() != q.rows()) throw bad(n, "its bias (input 5) is not a constant of " + q.rows() + " values");
            return new LinearOp(n, n.input(0), n.output(0), null, bias, q, null);
        }
        return withBias(t, n, n.output(0), q, null);
    }

    /** The weight of a MatMulNBits node in the canonical layout (codes copied, nibbles low-first, offsets = −zp·scale). */
    public static QuantizedMatrix nbitsWeight(GraphTracer t, Node n) {
        long k = n.attrInt("K", -1), nOut = n.attrInt("N", -1), bits = n.attrInt("bits", 4), bs = n.attrInt("block_size", -1);
        // accuracy_level 4: ONNX Runtime quantizes the activations to int8 per block (CompInt8); Cortado does the same
        boolean int8 = n.attrInt("accuracy_level", 0) == 4;
        if (bits != 4 && bits != 8) throw bad(n, bits + "-bit weights are not supported (Cortado's engine reads 4- and 8-bit MatMulNBits)");
        if (k <= 0 || nOut <= 0 || k > Integer.MAX_VALUE / 2 || nOut > Integer.MAX_VALUE / 2) throw bad(n, "attributes K = " + k + ", N = " + nOut + " must be positive");
        if (bs < 16 || Long.bitCount(bs) != 1) throw bad(n, "block_size " + bs + " is not a power of two ≥ 16 (the MatMulNBits spec)");
        if (!n.input(4).isEmpty()) throw bad(n, "it has a g_idx input (act-order / GPTQ group index), which Cortado's engine does not support");
        int K = (int) k, N = (int) nOut, B = (int) bs, blocks = (int) ((k + bs - 1) / bs), blob = (int) (bs * bits / 8);
        Tensor codes = constant(t, n, 1, "B");
        if (codes.dtype() != DType.U8 || codes.dim(0) != N || codes.numel() != (long) N * blocks * blob) {
            throw bad(n, "B is " + codes.dtype() + " " + java.util.Arrays.toString(codes.shape()) + ", expected uint8 [" + N + ", "
                    + blocks + ", " + blob + "] for K = " + K + ", block_size " + B + ", " + bits + " bits");
        }
        Tensor scales = constant(t, n, 2, "scales");
        if (!scales.dtype().isFloat() || scales.numel() != (long) N * blocks) {
            throw bad(n, "scales has " + scales.numel() + " " + scales.dtype() + " values, expected " + (long) N * blocks + " floats (N × blocks)");
        }
        Tensor zp = n.input(3).isEmpty() ? null : constant(t, n, 3, "zero_points");
        int zpRow = (int) ((blocks * bits + 7) / 8);
        if (zp != null && !(zp.dtype() == DType.U8 && zp.numel() == (long) N * zpRow || zp.dtype().isFloat() && zp.numel() == (long) N * blocks)) {
            throw bad(n, "zero_points has " + zp.numel() + " " + zp.dtype() + " values, expected " + (long) N * zpRow
                    + " packed uint8 or " + (long) N * blocks + " floats");
        }
        // MatMulNBits pads the last block when block_size does not divide K; a canonical block of gcd(block_size, K)
        // lies inside one MatMulNBits block, so re-blocking with duplicated scales is exact
        int g = gcd(B, K);
        if (bits == 4 && (K & 1) != 0) throw bad(n, "K = " + K + " is odd, which 4-bit rows cannot hold (block_size " + B + " does not divide it)");
        int cb = K / g, per = B / g;
        MemorySegment src = codes.data();
        if (bits == 4 && g == B) {
            // the file's [N, blocks, blob] codes are the canonical row-major layout byte for byte: read them in place (no
            // heap copy; the backend packs them once and lets the mapped pages go), and float32 scales likewise
            long count = (long) N * blocks;
            MemorySegment scaleSeg = scales.dtype() == DType.F32 ? scales.data().asSlice(0, count * 4) : null;
            float[] off = new float[(int) count];
            float[] sc = scaleSeg == null ? new float[(int) count] : null;
            boolean anyOffset = false;
            for (int r = 0; r < N; r++) {
                for (int b = 0; b < blocks; b++) {
                    long i = (long) r * blocks + b;
                    float sv = scales.getFloat(i);
                    float z = zp == null ? 8 : zp.dtype().isFloat() ? zp.getFloat(i) : zeroPoint(zp, r, zpRow, b, 4);
                    float o = -z * sv;
                    if (sc != null) sc[(int) i] = sv;
                    off[(int) i] = o;
                    anyOffset |= o != 0f;
                }
            }
            return new QuantizedMatrix(N, K, 4, B, src.asSlice(0, (long) N * K / 2), scaleSeg != null ? scaleSeg : le(sc),
                    anyOffset ? le(off) : null, int8);
        }
        byte[] vals = new byte[(int) ((long) N * K * bits / 8)];
        int rowBytes = (int) ((long) K * bits / 8), srcRow = blocks * blob;
        float[] sc = new float[N * cb], off = new float[N * cb];
        boolean anyOffset = false;
        int def = 1 << (bits - 1);
        for (int r = 0; r < N; r++) {
            // MatMulNBits packs each row's codes in order, low nibble first: the row's first K codes are the canonical row
            MemorySegment.copy(src, (long) r * srcRow, MemorySegment.ofArray(vals), (long) r * rowBytes, rowBytes);
            if (bits == 8) {   // canonical 8-bit codes are signed: q − 128, with the 128 folded into the offset
                for (int c = 0; c < K; c++) vals[r * rowBytes + c] = (byte) ((vals[r * rowBytes + c] & 0xff) - 128);
            }
            for (int b = 0; b < cb; b++) {
                int ob = b / per;
                float s = scales.getFloat((long) r * blocks + ob);
                float z = zp == null ? def : zp.dtype().isFloat() ? zp.getFloat((long) r * blocks + ob) : zeroPoint(zp, r, zpRow, ob, (int) bits);
                float o = bits == 8 ? s * (128 - z) : -z * s;
                sc[r * cb + b] = s;
                off[r * cb + b] = o;
                anyOffset |= o != 0f;
            }
        }
        return new QuantizedMatrix(N, K, (int) bits, g, MemorySegment.ofArray(vals), le(sc), anyOffset ? le(off) : null, int8);
    }

    private static float zeroPoint(Tensor zp, int r, int zpRow, int block, int bits) {
        int v = zp.data().get(ValueLayout.JAVA_BYTE, (long) r * zpRow + (bits == 4 ? block / 2 : block)) & 0xff;
        return bits == 8 ? v : (block & 1) == 0 ? v & 0x0f : v >>> 4;
    }

    /** float32 little-endian bytes (QuantizedMatrix's scales/offsets layout). */
    private static MemorySegment le(float[] a) {
        MemorySegment s = MemorySegment.ofArray(new byte[a.length * 4]);
        for (int i = 0; i < a.length; i++) s.set(Tensor.F32_LE, 4L * i, a[i]);
        return s;
    }

    /**
     * A MatMulInteger node fed by DynamicQuantizeLinear and followed by Cast → Mul(scale) (→ Add bias), as a linear
     * from the float input of the DynamicQuantizeLinear to the Mul (or Add) output.
     */
    static LinearOp matMulInteger(GraphTracer t, Node n) {
        var g = t.graph();
        Node dq = g.producer(n.input(0));
        if (dq == null || !dq.opType().equals("DynamicQuantizeLinear") || !n.input(2).equals(dq.output(2))) {
            throw bad(n, "its A input is not quantized by a DynamicQuantizeLinear with its zero point (only dynamic activation "
                    + "quantization is supported; run it with --engine ort)");
        }
        Tensor w = constant(t, n, 1, "B");
        if (w.rank() != 2 || !(w.dtype() == DType.I8 || w.dtype() == DType.U8)) {
            throw bad(n, "B is " + w.dtype() + " " + java.util.Arrays.toString(w.shape()) + ", expected a 2-D int8 or uint8 constant");
        }
        int in = (int) w.dim(0), out = (int) w.dim(1);
        boolean unsigned = w.dtype() == DType.U8;
        Tensor zw = n.input(3).isEmpty() ? null : constant(t, n, 3, "B zero point");
        if (zw != null && (zw.dtype() != w.dtype() || zw.rank() > 1 || zw.numel() != 1 && zw.numel() != out)) {
            throw bad(n, "B zero point is " + zw.dtype() + " " + java.util.Arrays.toString(zw.shape()) + ", expected a " + w.dtype()
                    + " scalar or [" + out + "] (per column)");
        }
        List<Node> cs = g.consumers(n.output(0));
        Node cast = cs.size() == 1 && cs.getFirst().opType().equals("Cast") ? cs.getFirst() : null;
        List<Node> cs2 = cast == null ? List.of() : g.consumers(cast.output(0));
        Node mul = cs2.size() == 1 && cs2.getFirst().opType().equals("Mul") ? cs2.getFirst() : null;
        if (mul == null) throw bad(n, "its output does not go through Cast → Mul by the scales (the quantize_dynamic pattern)");
        Node scales = g.producer(mul.input(0).equals(cast.output(0)) ? mul.input(1) : mul.input(0));
        Const ws = null;
        if (scales != null && scales.opType().equals("Mul")) {
            if (scales.input(0).equals(dq.output(1))) ws = t.constant(scales.input(1));
            else if (scales.input(1).equals(dq.output(1))) ws = t.constant(scales.input(0));
        }
        if (ws == null || ws.tensor().rank() > 1 || ws.tensor().numel() != 1 && ws.tensor().numel() != out || !ws.tensor().dtype().isFloat()) {
            throw bad(n, "the output scale is not Mul(activation scale, a float weight scale of 1 or " + out + " values)");
        }
        byte[] codes = new byte[Math.multiplyExact(in, out)];
        for (int i = 0; i < codes.length; i++) {
            int v = w.data().get(ValueLayout.JAVA_BYTE, i);
            codes[i] = (byte) (unsigned ? (v & 0xff) - 128 : v);
        }
        float[] s = new float[out];
        int[] z = new int[out];
        for (int j = 0; j < out; j++) {
            s[j] = ws.tensor().getFloat(ws.tensor().numel() == 1 ? 0 : j);
            long zv = zw == null ? 0 : zw.getLong(zw.numel() == 1 ? 0 : j);
            z[j] = (int) (unsigned ? zv - 128 : zv);   // uint8 codes and zero points are both shifted by −128
        }
        Int8Matrix m = new Int8Matrix(in, out, codes, s, z);
        LinearOp op = withBias(t, n, mul.output(0), null, m);
        return new LinearOp(n, dq.input(0), op.output(), null, op.bias(), null, m);
    }

    /**
     * The float table a Gather reads: {@code table} itself, or, for an int8/uint8 table whose Gather output goes through
     * DequantizeLinear (per-tensor scale and zero point, as quantize_dynamic writes embeddings), the table dequantized
     * once as ONNX Runtime computes it, {@code float(q − zp) · scale}.
     */
    public static Tensor gatheredTable(GraphTracer t, Node gather, Tensor table) {
        if (table.dtype().isFloat()) return table;
        List<Node> cs = t.graph().consumers(gather.output(0));
        Node dq = cs.size() == 1 && cs.getFirst().opType().equals("DequantizeLinear") ? cs.getFirst() : null;
        if (dq == null || !(table.dtype() == DType.U8 || table.dtype() == DType.I8)) {
            throw bad(gather, "its table is " + table.dtype() + " without a DequantizeLinear after the Gather");
        }
        Tensor scale = constant(t, dq, 1, "x_scale");
        Tensor zp = dq.input(2).isEmpty() ? null : constant(t, dq, 2, "x_zero_point");
        if (scale.numel() != 1 || !scale.dtype().isFloat() || zp != null && (zp.numel() != 1 || zp.dtype() != table.dtype())) {
            throw bad(dq, "only a per-tensor scale and zero point are supported for a quantized embedding table");
        }
        float s = scale.getFloat(0);
        long z = zp == null ? 0 : zp.getLong(0);
        long n = table.numel();
        if (n > Integer.MAX_VALUE - 8) throw bad(gather, "table too large");
        float[] out = new float[(int) n];
        for (int i = 0; i < out.length; i++) out[i] = (float) (table.getLong(i) - z) * s;
        return Tensor.of(out, table.shape());
    }

    /** Absorbs a following Add of a 1-D constant as the bias. */
    private static LinearOp withBias(GraphTracer t, Node n, String output, QuantizedMatrix q, Int8Matrix i8) {
        List<Node> cs = t.graph().consumers(output);
        if (cs.size() == 1 && cs.getFirst().opType().equals("Add")) {
            Node add = cs.getFirst();
            Const b = t.constant(add.input(0).equals(output) ? add.input(1) : add.input(0));
            if (b != null && (b.tensor().rank() == 1 || b.tensor().rank() == 2 && b.tensor().dim(0) == 1)) {
                return new LinearOp(n, n.input(0), add.output(0), null, b, q, i8);
            }
        }
        return new LinearOp(n, n.input(0), output, null, null, q, i8);
    }

    private static Tensor constant(GraphTracer t, Node n, int input, String what) {
        Const c = t.constant(n.input(input));
        if (c == null || c.transposed()) throw bad(n, "its " + what + " input '" + n.input(input) + "' is not a constant initializer");
        return c.tensor();
    }

    private static CortadoException bad(Node n, String why) {
        return new CortadoException(n.opType() + " node '" + n.name() + "': " + why + " (run the model with --engine ort)");
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** ", int4 MatMulNBits (block 32)"-style note on the quantized linears of a traced graph, or "" when none are. */
    public static String describe(List<LinearOp> ops) {
        java.util.Set<String> kinds = new java.util.TreeSet<>();
        for (LinearOp op : ops) {
            if (op.nbits() != null) kinds.add("int" + op.nbits().bits() + " MatMulNBits");
            else if (op.int8() != null) kinds.add("int8 MatMulInteger");
        }
        long q = ops.stream().filter(LinearOp::quantized).count();
        return kinds.isEmpty() ? "" : ", " + String.join(" + ", kinds) + " (" + q + " of " + ops.size() + " linears)";
    }

    /** Output features [from, to) of a quantized weight (rows of the canonical layout are contiguous). */
    public static QuantizedMatrix rows(QuantizedMatrix q, int from, int to) {
        long rb = (long) q.cols() * q.bits() / 8, sb = (long) q.blocksPerRow() * 4;
        return new QuantizedMatrix(to - from, q.cols(), q.bits(), q.blockSize(), q.values().asSlice(from * rb, (to - from) * rb),
                q.scales().asSlice(from * sb, (to - from) * sb), q.offsets() == null ? null : q.offsets().asSlice(from * sb, (to - from) * sb),
                q.int8Activations());
    }

    /** Output columns [from, to) of an int8 weight. */
    public static Int8Matrix columns(Int8Matrix w, int from, int to) {
        int n = to - from;
        byte[] c = new byte[w.in() * n];
        for (int k = 0; k < w.in(); k++) System.arraycopy(w.codes(), k * w.out() + from, c, k * n, n);
        return new Int8Matrix(w.in(), n, c, java.util.Arrays.copyOfRange(w.scales(), from, to),
                java.util.Arrays.copyOfRange(w.zeroPoints(), from, to));
    }
}
