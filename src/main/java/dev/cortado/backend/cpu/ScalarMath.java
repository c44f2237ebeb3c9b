package dev.cortado.backend.cpu;

/**
 * exp and tanh in float from IEEE basic operations only (add, sub, mul, div, {@link Math#fma}, min/max, compares and
 * bit moves), each correctly rounded in the interpreter, C1, C2 and on every ISA; {@link VectorMath} does the SAME
 * operations in the same order lane by lane, so a vector lane, a scalar tail, a cold and a warm JVM, AVX2, AVX-512
 * and the scalar backend all give the same bits (unlike {@code Math.exp} vs the Vector API's SVML {@code EXP}, which
 * differ in the last bit). Change one twin only together with the other; {@code VectorMathTest} checks both.
 *
 * <p>exp (≤ 1.01 ulp from StrictMath over every 97th float of [−104, 89], as measured by VectorMathTest):
 * x is clamped to [−104, 89] (NaN stays NaN); k = round(x·log2 e) by the 1.5·2^23 shift trick in one fma;
 * r = x − k·ln2hi − k·ln2lo (Cody–Waite: ln2hi has 8 trailing zero bits, so the first fma is exact); exp(r) =
 * 1 + r + r²·P(r) with Cephes' degree-5 minimax P (|r| ≤ ln2/2); the result is (1 + y)·2^⌊k/2⌋ (one fma, a normal
 * number) times 2^(k−⌊k/2⌋) (exact when the result is normal), both powers built from exponent bits. The last multiply
 * rounds once, so results in the subnormal range are gradual (not flushed): exp(x) for x below about −103.97 is +0,
 * x ≥ 88.73 (and +inf) gives +inf, −inf gives +0, NaN gives NaN.
 *
 * <p>tanh (≤ 1.34 ulp from StrictMath over every 97th float of [−10, 10] and every float of [0.5, 0.75]): for
 * |x| &lt; 0.625 Cephes' odd polynomial a + a·z·P(z), z = a²; else 1 − 2/(exp(2a) + 1), which saturates to exactly 1
 * (exp overflows to +inf beyond |x| ≈ 44). The sign bit of x is copied onto the result (tanh(−0) = −0,
 * tanh(±inf) = ±1, NaN stays NaN). Both branches are computed and one is selected, as the vector twin must.
 */
final class ScalarMath {
    static final float EXP_LO = -104f, EXP_HI = 89f;
    static final float LOG2E = 0x1.715476p+0f, SHIFT = 0x1.8p23f, LN2_HI = 0x1.62e4p-1f, LN2_LO = 0x1.7f7d1cp-20f;
    static final int ONE_BITS = 0x3F800000, SIGN = 0x80000000;
    // Cephes expf: exp(r) ≈ 1 + r + r²·(((((E0·r + E1)·r + E2)·r + E3)·r + E4)·r + E5)
    static final float E0 = 1.9875691500e-4f, E1 = 1.3981999507e-3f, E2 = 8.3334519073e-3f, E3 = 4.1665795894e-2f,
            E4 = 1.6666665459e-1f, E5 = 5.0000001201e-1f;
    // Cephes tanhf, |x| < 0.625: tanh(x) ≈ x + x·z·((((T0·z + T1)·z + T2)·z + T3)·z + T4), z = x²
    static final float TANH_SMALL = 0.625f;
    static final float T0 = -5.70498872745e-3f, T1 = 2.06390887954e-2f, T2 = -5.37397155531e-2f, T3 = 1.33314422036e-1f,
            T4 = -3.33332819422e-1f;

    private ScalarMath() {}

    /** e^x (see the class comment); bit-identical to {@link VectorMath#exp} lane by lane. */
    static float exp(float x) {
        float c = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float z = Math.fma(c, LOG2E, SHIFT);
        float k = z - SHIFT;
        float r = Math.fma(k, -LN2_HI, c);
        r = Math.fma(k, -LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, E0, E1), r, E2), r, E3), r, E4), r, E5);
        float y = Math.fma(p, r * r, r);
        // z's bits are 0x4B400000 + k, and 0x4B400000 (even) vanishes from both shifts mod 2^32:
        // h = ⌊k/2⌋·2^23 and zb << 23 = k·2^23
        int zb = Float.floatToRawIntBits(z);
        int h = (zb >> 1) << 23;
        float s1 = Float.intBitsToFloat(h + ONE_BITS), s2 = Float.intBitsToFloat((zb << 23) - h + ONE_BITS);
        return Math.fma(y, s1, s1) * s2;
    }

    /** tanh(x) (see the class comment); bit-identical to {@link VectorMath#tanh} lane by lane. */
    static float tanh(float x) {
        float a = Math.abs(x), z = a * a;
        float p = Math.fma(Math.fma(Math.fma(Math.fma(z, T0, T1), z, T2), z, T3), z, T4);
        float small = Math.fma(p * z, a, a);
        float big = 1f - 2f / (exp(a + a) + 1f);
        float t = a < TANH_SMALL ? small : big;
        return Float.intBitsToFloat(Float.floatToRawIntBits(t) | (Float.floatToRawIntBits(x) & SIGN));
    }
}
