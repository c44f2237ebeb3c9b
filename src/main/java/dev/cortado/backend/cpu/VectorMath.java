package dev.cortado.backend.cpu;

import static dev.cortado.backend.cpu.ScalarMath.E0;
import static dev.cortado.backend.cpu.ScalarMath.E1;
import static dev.cortado.backend.cpu.ScalarMath.E2;
import static dev.cortado.backend.cpu.ScalarMath.E3;
import static dev.cortado.backend.cpu.ScalarMath.E4;
import static dev.cortado.backend.cpu.ScalarMath.E5;
import static dev.cortado.backend.cpu.ScalarMath.EXP_HI;
import static dev.cortado.backend.cpu.ScalarMath.EXP_LO;
import static dev.cortado.backend.cpu.ScalarMath.LN2_HI;
import static dev.cortado.backend.cpu.ScalarMath.LN2_LO;
import static dev.cortado.backend.cpu.ScalarMath.LOG2E;
import static dev.cortado.backend.cpu.ScalarMath.ONE_BITS;
import static dev.cortado.backend.cpu.ScalarMath.SHIFT;
import static dev.cortado.backend.cpu.ScalarMath.SIGN;
import static dev.cortado.backend.cpu.ScalarMath.T0;
import static dev.cortado.backend.cpu.ScalarMath.T1;
import static dev.cortado.backend.cpu.ScalarMath.T2;
import static dev.cortado.backend.cpu.ScalarMath.T3;
import static dev.cortado.backend.cpu.ScalarMath.T4;
import static dev.cortado.backend.cpu.ScalarMath.TANH_SMALL;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp and tanh over a FloatVector from IEEE basic operations only — the operations of {@link ScalarMath} in the same
 * order, lane by lane — instead of the Vector API's {@code EXP}/{@code TANH} (an SVML call when C2 compiles it,
 * {@code Math.exp}/{@code Math.tanh} per lane when it does not: the two differ in the last bit, so a cold JVM's logits
 * differed from a warm one's). Every operation here is correctly rounded, or exact, in every JIT state and on every
 * ISA, so the result does not depend on either. Reached only when {@link Simd#VECTOR}.
 *
 * <p>{@link #sum} likewise replaces {@code reduceLanes(ADD)}, whose order of adds the Vector API leaves to the
 * implementation: C2's intrinsic and the Java fallback (sequential) gave different bits in different JIT states.
 *
 * <p>The methods are straight-line (no loops, no calls but the Vector API's and, in tanh, {@link #exp}) so that C2
 * inlines them into their callers: a FloatVector returned from a call that is not inlined is boxed.
 */
final class VectorMath {
    private static final VectorSpecies<Float> F = CpuMatmul.F;
    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());
    // lane i ↔ lane i ^ h: the stages of a fixed pairwise tree (null where h ≥ the lane count)
    // (up to 64 float lanes: the widest shape, 2048-bit SVE)
    private static final VectorShuffle<Float> F32 = swap(F, 32), F16 = swap(F, 16), F8 = swap(F, 8), F4 = swap(F, 4),
            F2 = swap(F, 2), F1 = swap(F, 1);
    private static final VectorShuffle<Double> D16 = swap(D, 16), D8 = swap(D, 8), D4 = swap(D, 4), D2 = swap(D, 2),
            D1 = swap(D, 1);

    private VectorMath() {}

    private static <E> VectorShuffle<E> swap(VectorSpecies<E> s, int h) {
        return h < s.length() ? VectorShuffle.fromOp(s, i -> i ^ h) : null;
    }

    /**
     * The sum of v's lanes (species {@link CpuMatmul#F}) by a fixed pairwise tree (lane i + lane i ^ h for h = L/2 … 1),
     * so the same bits in every JIT state, unlike {@code reduceLanes(ADD)}.
     */
    static float sum(FloatVector v) {
        if (F32 != null) v = v.add(v.rearrange(F32));
        if (F16 != null) v = v.add(v.rearrange(F16));
        if (F8 != null) v = v.add(v.rearrange(F8));
        if (F4 != null) v = v.add(v.rearrange(F4));
        if (F2 != null) v = v.add(v.rearrange(F2));
        if (F1 != null) v = v.add(v.rearrange(F1));
        return v.lane(0);
    }

    /** As {@link #sum(FloatVector)} for the double species of the same shape. */
    static double sum(DoubleVector v) {
        if (D16 != null) v = v.add(v.rearrange(D16));
        if (D8 != null) v = v.add(v.rearrange(D8));
        if (D4 != null) v = v.add(v.rearrange(D4));
        if (D2 != null) v = v.add(v.rearrange(D2));
        if (D1 != null) v = v.add(v.rearrange(D1));
        return v.lane(0);
    }

    /** e^x lane by lane; bit-identical to {@link ScalarMath#exp}. */
    static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(EXP_LO).min(EXP_HI);
        FloatVector z = c.fma(LOG2E, SHIFT);
        FloatVector k = z.sub(SHIFT);
        FloatVector r = k.fma(x.broadcast(-LN2_HI), c);
        r = k.fma(x.broadcast(-LN2_LO), r);
        FloatVector p = r.fma(E0, E1).fma(r, x.broadcast(E2)).fma(r, x.broadcast(E3)).fma(r, x.broadcast(E4))
                .fma(r, x.broadcast(E5));
        FloatVector y = p.fma(r.mul(r), r);
        IntVector zb = z.reinterpretAsInts();
        IntVector h = zb.lanewise(VectorOperators.ASHR, 1).lanewise(VectorOperators.LSHL, 23);
        FloatVector s1 = h.add(ONE_BITS).reinterpretAsFloats();
        FloatVector s2 = zb.lanewise(VectorOperators.LSHL, 23).sub(h).add(ONE_BITS).reinterpretAsFloats();
        return y.fma(s1, s1).mul(s2);
    }

    /** tanh(x) lane by lane; bit-identical to {@link ScalarMath#tanh}. */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs(), z = a.mul(a);
        FloatVector p = z.fma(T0, T1).fma(z, x.broadcast(T2)).fma(z, x.broadcast(T3)).fma(z, x.broadcast(T4));
        FloatVector small = p.mul(z).fma(a, a);
        FloatVector big = x.broadcast(1f).sub(x.broadcast(2f).div(exp(a.add(a)).add(1f)));
        FloatVector t = big.blend(small, a.compare(VectorOperators.LT, TANH_SMALL));
        return t.reinterpretAsInts().or(x.reinterpretAsInts().and(SIGN)).reinterpretAsFloats();
    }
}
