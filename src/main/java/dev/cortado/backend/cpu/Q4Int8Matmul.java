package dev.cortado.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * 4-bit weights × int8-quantized activations ({@link PackedWeight#int8Activations}): what ONNX Runtime computes for a
 * MatMulNBits node with {@code accuracy_level = 4} and llama.cpp for Q4 × Q8 dot products. Each activation row is
 * quantized per weight block (MLAS's {@code QuantizeARow_CompInt8}: {@code d = amax / 127}, {@code q = rint(x · 127 / amax)},
 * −127..127); the block's products {@code q · code} are summed exactly in integers, then
 * {@code y += d · (scale · Σ q·code + offset · Σ q)} (centred weights: {@code d · scale · (Σ q·code − 8 Σ q)}). The result
 * is exactly the float dot product of the dequantized activations with the dequantized weights, up to the float
 * rounding of the per-block epilogue.
 * <p>Why: a float dequantization spends a conversion and an FMA per weight and lane (the batch-1 GEMV was compute-bound
 * at ~18-23 G weights/s per core on Zen 4); here a pair of code rows costs one widening load, a mask, a shift, two 16-bit
 * multiplies and two 16-bit adds for 2·NR weights. A 16-bit lane holds at most 16 products of 15 × 127 (30,480), so each
 * block is summed in chunks of 16 code-row pairs (one chunk for blocks of 32).
 * <p>Every row of every call goes through this kernel (batch 1, batched decode and prefill alike; two rows share each code
 * load), so a row's result does not depend on how many rows share the call (the integer sums are exact whichever
 * path computes them). A single row: {@link #codes} (int block sums) then {@link #epilogue} (scales, offsets; it
 * re-reads the panel's scales from L1/L2 right after the codes streamed past). Two rows: {@link #codes2} stores 16-bit
 * chunk sums, {@link #widen} turns each row's into int block sums, then the same epilogue — with both rows' conversions
 * in the code loop C2 ran out of nodes (NodeCountInliningCutoff) and boxed the vectors. No Vector-API value crosses a
 * call, nothing is boxed.
 */
final class Q4Int8Matmul {
    private static final VectorSpecies<Float> F = CpuMatmul.F;
    private static final int L = F.length(), NR = 2 * L;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** NR code bytes (one code row of a panel), widened to NR short lanes, split into two int vectors of L lanes. */
    private static final VectorSpecies<Byte> BN = QuantMatmul.SUPPORTED ? VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * NR)) : null;
    private static final VectorSpecies<Short> SN = QuantMatmul.SUPPORTED ? VectorSpecies.of(short.class, VectorShape.forBitSize(16 * NR)) : null;
    private static final VectorSpecies<Integer> I = QuantMatmul.SUPPORTED ? VectorSpecies.of(int.class, F.vectorShape()) : null;
    /** Code-row pairs per 16-bit accumulation: 16 · 15 · 127 = 30,480 ≤ 32,767. */
    private static final int PAIRS_PER_FLUSH = 16;

    private Q4Int8Matmul() {}

    /** Whether {@code w} can run here: 4-bit codes with the vector kernels available (the scalar path has no int8 mode). */
    static boolean supports(PackedWeight w) {
        return QuantMatmul.SUPPORTED && PackedMatmul.NR == NR && w.format == PackedWeight.Format.Q4;
    }

    /** One activation matrix quantized per weight block: codes (as shorts, for the 16-bit broadcast), d and Σ q per block. */
    record Activations(short[] q, float[] d, int[] sum) {}

    /**
     * Quantizes rows [0, m) of x (row length k) per block of bs inputs into a (arrays at least m·k / m·k/bs long).
     * MLAS's rounding: inverse scale {@code 127 / amax} (one division), {@code rint} (half to even), zero blocks all 0.
     */
    static Activations quantize(float[] x, int m, int k, int bs, Activations a) {
        short[] q = a.q;
        for (int r = 0, nb = k / bs; r < m; r++) {
            for (int b = 0; b < nb; b++) {
                int i0 = r * k + b * bs, e = i0 + bs;
                float amax = 0;
                for (int i = i0; i < e; i++) amax = Math.max(amax, Math.abs(x[i]));
                float inv = amax != 0 ? 127f / amax : 0f;
                int s = 0;
                for (int i = i0; i < e; i++) {
                    int v = (int) Math.rint(x[i] * inv);
                    v = Math.max(-127, Math.min(127, v));   // a NaN/inf-free x never exceeds 127; the clamp keeps int16 safe
                    q[i] = (short) v;
                    s += v;
                }
                a.d[r * nb + b] = amax / 127f;
                a.sum[r * nb + b] = s;
            }
        }
        return a;
    }

    private static final ThreadLocal<Activations> ACTS = new ThreadLocal<>();
    private static final ThreadLocal<int[]> ACC = new ThreadLocal<>();
    private static final ThreadLocal<float[]> OUT = new ThreadLocal<>();

    private static Activations acts(int m, int k, int nb) {
        Activations a = ACTS.get();
        if (a == null || a.q.length < m * k || a.d.length < m * nb) ACTS.set(a = new Activations(new short[m * k], new float[m * nb], new int[m * nb]));
        return a;
    }

    private static final ThreadLocal<short[]> PARTS = new ThreadLocal<>();

    /** 16-bit partial sums per row and panel: per block, ⌈bs / 32⌉ chunks of a low-nibble and a high-nibble sum of NR lanes. */
    private static int partsPerRow(PackedWeight w) {
        return w.blocks() * chunks(w.blockSize) * 2 * NR;
    }

    private static int chunks(int bs) {
        return (bs + 2 * PAIRS_PER_FLUSH - 1) / (2 * PAIRS_PER_FLUSH);
    }

    /** y[m, n] = x[m, k] · W (+ bias), every row through the int8 kernel. */
    static void matmul(float[] x, PackedWeight w, float[] bias, float[] y, int m, WorkerPool pool) {
        int k = w.k, n = w.n, nb = w.blocks(), panels = w.panels(), pr = partsPerRow(w);
        Activations a = quantize(x, m, k, w.blockSize, acts(m, k, nb));
        pool.parallelFor(panels, (p0, p1) -> {
            short[] parts = PARTS.get();
            if (parts == null || parts.length < 2 * pr) PARTS.set(parts = new short[2 * pr]);
            int[] acc = ACC.get();
            if (acc == null || acc.length < nb * NR) ACC.set(acc = new int[nb * NR]);
            float[] tmp = OUT.get();
            if (tmp == null) OUT.set(tmp = new float[NR]);
            for (int p = p0; p < p1; p++) {
                int j0 = p * NR, width = Math.min(NR, n - j0), r = 0;
                // two rows share each code load (prefill, batched decode); after the first pass the panel is in L1/L2
                for (; r + 2 <= m; r += 2) {
                    codes2(a.q, r * k, k, w, p, parts, pr);
                    for (int i = 0; i < 2; i++) {
                        widen(parts, i * pr, w, acc);
                        epilogue(acc, a, (r + i) * nb, w, p, tmp);
                        PackedMatmul.store(tmp, 0, y, (r + i) * n + j0, width, bias, j0);
                    }
                }
                if (r < m) {
                    codes(a.q, r * k, w, p, acc);
                    epilogue(acc, a, r * nb, w, p, tmp);
                    PackedMatmul.store(tmp, 0, y, r * n + j0, width, bias, j0);
                }
            }
        });
    }

    /**
     * Panel p's block sums for the row at q[qo]: acc[b·NR + j] = Σ over block b of q·code (exact int), the 16-bit chunk
     * sums (low and high nibbles) widened to int lanes in the loop: the single-row kernel (batch-1 decode), without
     * {@link #codes2}'s store-then-{@link #widen} pass, which two rows need (with both rows' conversions in the loop C2
     * ran out of nodes and boxed). The same integer sums either way.
     */
    static void codes(short[] q, int qo, PackedWeight w, int p, int[] acc) {
        MemorySegment s = w.data;
        int bs = w.blockSize, nb = w.blocks();
        long ob = p * w.panelBytes;
        for (int b = 0; b < nb; b++, ob += w.blockBytes) {
            IntVector i0 = IntVector.zero(I), i1 = i0;
            long o = ob;
            for (int kk = qo + b * bs, e = kk + bs; kk < e; ) {
                ShortVector lo = ShortVector.zero(SN), hi = lo;
                for (int f = Math.min(e, kk + 2 * PAIRS_PER_FLUSH); kk < f; kk += 2, o += NR) {
                    ShortVector v = (ShortVector) ByteVector.fromMemorySegment(BN, s, o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, SN, 0);
                    lo = v.and((short) 0x0f).mul(q[kk]).add(lo);
                    hi = v.lanewise(VectorOperators.LSHR, 4).mul(q[kk + 1]).add(hi);
                }
                i0 = i0.add((IntVector) lo.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) hi.convertShape(VectorOperators.S2I, I, 0));
                i1 = i1.add((IntVector) lo.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) hi.convertShape(VectorOperators.S2I, I, 1));
            }
            i0.intoArray(acc, b * NR);
            i1.intoArray(acc, b * NR + L);
        }
    }

    /**
     * The block sums of the rows at q[qo] and q[qo + k] at once (each code row loaded, masked and shifted once), as 16-bit
     * chunk sums: per block b and chunk c of up to 16 code-row pairs, Σ q[2i]·lo(code) and Σ q[2i+1]·hi(code) (exact:
     * ≤ 16 · 15 · 127) at parts[((b·chunks + c)·2 + 0|1)·NR + j], row 1 at parts[pr…]; {@link #widen} sums them in ints.
     */
    static void codes2(short[] q, int qo, int k, PackedWeight w, int p, short[] parts, int pr) {
        MemorySegment s = w.data;
        int bs = w.blockSize, nb = w.blocks();
        long ob = p * w.panelBytes;
        for (int b = 0, at = 0; b < nb; b++, ob += w.blockBytes) {
            int qb = qo + b * bs, qc = qb + k;
            for (int t0 = 0, pairs = bs / 2; t0 < pairs; t0 += PAIRS_PER_FLUSH, at += 2 * NR) {
                ShortVector la = ShortVector.zero(SN), ha = la, lb = la, hb = la;
                for (int t = t0, t1 = Math.min(pairs, t0 + PAIRS_PER_FLUSH); t < t1; t++) {
                    ShortVector v = (ShortVector) ByteVector.fromMemorySegment(BN, s, ob + (long) t * NR, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, SN, 0);
                    ShortVector lo = v.and((short) 0x0f), hi = v.lanewise(VectorOperators.LSHR, 4);
                    la = lo.mul(q[qb + 2 * t]).add(la);
                    ha = hi.mul(q[qb + 2 * t + 1]).add(ha);
                    lb = lo.mul(q[qc + 2 * t]).add(lb);
                    hb = hi.mul(q[qc + 2 * t + 1]).add(hb);
                }
                la.intoArray(parts, at);
                ha.intoArray(parts, at + NR);
                lb.intoArray(parts, pr + at);
                hb.intoArray(parts, pr + at + NR);
            }
        }
    }

    /** acc[b·NR + j] = the sum of block b's 16-bit partial sums of one row (from parts[po…]), in int lanes. */
    static void widen(short[] parts, int po, PackedWeight w, int[] acc) {
        int nb = w.blocks(), ch = chunks(w.blockSize);
        for (int b = 0, at = po; b < nb; b++) {
            IntVector i0 = IntVector.zero(I), i1 = i0;
            for (int c = 0; c < ch; c++, at += 2 * NR) {
                ShortVector lo = ShortVector.fromArray(SN, parts, at), hi = ShortVector.fromArray(SN, parts, at + NR);
                i0 = i0.add((IntVector) lo.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) hi.convertShape(VectorOperators.S2I, I, 0));
                i1 = i1.add((IntVector) lo.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) hi.convertShape(VectorOperators.S2I, I, 1));
            }
            i0.intoArray(acc, b * NR);
            i1.intoArray(acc, b * NR + L);
        }
    }

    /**
     * out[0, NR) = Σ_b d_b · (scale_b · acc_b + offset_b · Σq_b) for panel p (centred: d_b · scale_b · (acc_b − 8 Σq_b)),
     * the row's block sums at acc[b·NR + j] ({@link #widen}).
     */
    static void epilogue(int[] acc, Activations a, int ao, PackedWeight w, int p, float[] out) {
        MemorySegment s = w.data;
        int nb = w.blocks();
        long eb = w.scaleBytes(), so = p * w.panelBytes + (long) w.blockSize / 2 * NR;
        boolean half = w.half, centred = w.centred, offsets = w.offsets;
        FloatVector y0 = FloatVector.zero(F), y1 = y0;
        for (int b = 0; b < nb; b++, so += w.blockBytes) {
            IntVector i0 = IntVector.fromArray(I, acc, b * NR), i1 = IntVector.fromArray(I, acc, b * NR + L);
            int sum = a.sum[ao + b];
            if (centred) {
                i0 = i0.add(-8 * sum);
                i1 = i1.add(-8 * sum);
            }
            float d = a.d[ao + b];
            FloatVector f0 = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).mul(d);
            FloatVector f1 = ((FloatVector) i1.convert(VectorOperators.I2F, 0)).mul(d);
            y0 = f0.fma(QuantMatmul.scales(s, so, half), y0);
            y1 = f1.fma(QuantMatmul.scales(s, so + eb * L, half), y1);
            if (offsets) {
                FloatVector ds = FloatVector.broadcast(F, d * sum);
                y0 = QuantMatmul.scales(s, so + eb * NR, half).fma(ds, y0);
                y1 = QuantMatmul.scales(s, so + eb * NR + eb * L, half).fma(ds, y1);
            }
        }
        y0.intoArray(out, 0);
        y1.intoArray(out, L);
    }
}
