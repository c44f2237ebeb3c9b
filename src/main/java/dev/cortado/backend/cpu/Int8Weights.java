package dev.cortado.backend.cpu;

import dev.cortado.tensor.DType;
import dev.cortado.tensor.Int8Matrix;
import dev.cortado.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * ONNX {@code DynamicQuantizeLinear} + {@code MatMulInteger} (+ scale {@code Mul}) on the CPU, computing what ONNX
 * Runtime computes: the activation tensor is quantized to uint8 with one dynamic scale and zero point (ORT's
 * {@code GetQuantizationParameter}: range widened to include 0, scale = range / 255, zero point and codes rounded half
 * to even), {@code Σ (a − za)(w − zw)} is accumulated exactly as an integer, and the output is
 * {@code float(sum) · (aScale · wScale[n]) + bias[n]}.
 *
 * <p>Weights are int8 codes packed once into column panels of {@link #NR} columns (K × NR bytes each, zero-padded):
 * a quarter of the float32 bytes. The Vector API kernel ({@link Int8Matmul}) widens codes to float in-register and
 * accumulates exact integer products with FMA ({@code |a − za| ≤ 255}, {@code |code| ≤ 128}: any 512 products sum
 * below 2^24, so float partial sums are exact integers and are flushed to int every 512 k). The scalar twin here
 * accumulates in int32 and is the reference the vector kernel is tested against (bit-identical).
 */
final class Int8Weights {
    /** Columns per panel: two float vectors of the vector kernel (16 without the Vector API). */
    static final int NR = Simd.VECTOR ? Int8Matmul.NR : 16;
    /** k steps whose products are summed in float before a flush to int (512 · 255 · 128 < 2^24). */
    static final int CHUNK = 512;

    /** A packed weight: panels of NR columns, per-column scale and zero point (padded to whole panels). */
    record Packed(byte[] panels, int k, int n, float[] scales, int[] zeroPoints) {
        int panelCount() { return (n + NR - 1) / NR; }
    }

    /** Packed weights by their panel array; the bound tensor holds the array, so an entry lives as long as its model. */
    private static final Map<byte[], Packed> PACKED = Collections.synchronizedMap(new WeakHashMap<>());

    private Int8Weights() {}

    /** Packs {@code w} once; the returned I8 tensor [in, out] is opaque (read it only through {@link #linear}). */
    static Tensor bind(Int8Matrix w) {
        int k = w.in(), n = w.out(), panels = (n + NR - 1) / NR;
        byte[] p = new byte[Math.multiplyExact(panels * NR, k)];
        byte[] c = w.codes();
        for (int pi = 0; pi < panels; pi++) {
            int j0 = pi * NR, width = Math.min(NR, n - j0), base = pi * k * NR;
            for (int kk = 0; kk < k; kk++) System.arraycopy(c, kk * n + j0, p, base + kk * NR, width);
        }
        float[] s = new float[panels * NR];
        int[] z = new int[panels * NR];
        System.arraycopy(w.scales(), 0, s, 0, n);
        System.arraycopy(w.zeroPoints(), 0, z, 0, n);
        PACKED.put(p, new Packed(p, k, n, s, z));
        return new Tensor(DType.I8, new long[] {k, n}, MemorySegment.ofArray(p));
    }

    /** The packed weight behind a tensor from {@link #bind}, or null for any other tensor. */
    static Packed of(Tensor w) {
        if (w.dtype() != DType.I8) return null;
        Object base = w.data().heapBase().orElse(null);
        return base instanceof byte[] b ? PACKED.get(b) : null;
    }

    /** The dynamic quantization of an activation tensor: codes minus zero point (−255..255, as floats) and row sums. */
    record Quantized(float[] a, int[] rowSums, float scale) {}

    /** ORT's GetQuantizationParameter + MlasQuantizeLinear over all of x, returning a − zeroPoint. */
    static Quantized quantize(float[] x, int m, int k) {
        int len = m * k;
        float min = 0f, max = 0f;   // the range always includes 0
        if (Simd.VECTOR) {
            float[] mm = Int8Matmul.minMax(x, len);
            min = Math.min(min, mm[0]);
            max = Math.max(max, mm[1]);
        } else {
            for (int i = 0; i < len; i++) {
                min = Math.min(min, x[i]);
                max = Math.max(max, x[i]);
            }
        }
        float scale = max == min ? 1f : (max - min) / 255f;
        int zp = (int) Math.rint(Math.max(0f, Math.min(255f, 0f - min / scale)));
        float[] a = new float[len];
        int[] sums = new int[m];
        if (Simd.VECTOR) {
            Int8Matmul.quantize(x, a, len, scale, zp);
        } else {
            float lo = -zp, hi = 255 - zp;
            for (int i = 0; i < len; i++) a[i] = (float) Math.rint(Math.max(lo, Math.min(hi, x[i] / scale)));
        }
        for (int r = 0; r < m; r++) {
            int s = 0;
            for (int i = r * k, e = i + k; i < e; i++) s += (int) a[i];
            sums[r] = s;
        }
        return new Quantized(a, sums, scale);
    }

    /** y[M,N] = dequantized MatMulInteger of x[M,K] (+ bias). */
    static void linear(float[] x, Packed w, float[] bias, float[] y, int m, WorkerPool pool) {
        Quantized q = quantize(x, m, w.k());
        float[] ss = new float[w.scales().length];
        for (int j = 0; j < ss.length; j++) ss[j] = q.scale() * w.scales()[j];   // ORT: Mul(aScale, wScale) in float
        if (Simd.VECTOR) Int8Matmul.matmul(q, w, ss, bias, y, m, pool);
        else matmulScalar(q, w, ss, bias, y, m, 0, m);
    }

    /** The scalar twin: int32 accumulation, rows [r0, r1). */
    static void matmulScalar(Quantized q, Packed w, float[] ss, float[] bias, float[] y, int m, int r0, int r1) {
        int k = w.k(), n = w.n();
        byte[] p = w.panels();
        for (int r = r0; r < r1; r++) {
            for (int j = 0; j < n; j++) {
                int base = (j / NR) * k * NR + j % NR, acc = 0;
                for (int kk = 0; kk < k; kk++) acc += (int) q.a()[r * k + kk] * p[base + kk * NR];
                y[r * n + j] = output(acc, w.zeroPoints()[j], q.rowSums()[r], ss[j], bias, j);
            }
        }
    }

    /** float(Σ a'·code − zw·Σ a') · scale (+ bias): the integer total, then ORT's Cast, Mul and Add. */
    static float output(int acc, int zw, int rowSum, float scale, float[] bias, int j) {
        float v = (float) (acc - zw * rowSum) * scale;
        return bias == null ? v : v + bias[j];
    }
}
