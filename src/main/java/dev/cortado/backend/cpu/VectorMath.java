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
import static dev.cortado.backend.cpu.ScalarMath.SHIFT_BITS;
import static dev.cortado.backend.cpu.ScalarMath.SIGN;
import static dev.cortado.backend.cpu.ScalarMath.T0;
import static dev.cortado.backend.cpu.ScalarMath.T1;
import static dev.cortado.backend.cpu.ScalarMath.T2;
import static dev.cortado.backend.cpu.ScalarMath.T3;
import static dev.cortado.backend.cpu.ScalarMath.T4;
import static dev.cortado.backend.cpu.ScalarMath.TANH_SMALL;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * exp and tanh over a FloatVector from IEEE basic operations only — the operations of {@link ScalarMath} in the same
 * order, lane by lane — instead of the Vector API's {@code EXP}/{@code TANH} (an SVML call when C2 compiles it,
 * {@code Math.exp}/{@code Math.tanh} per lane when it does not: the two differ in the last bit, so a cold JVM's logits
 * differed from a warm one's). Every operation here is correctly rounded, or exact, in every JIT state and on every
 * ISA, so the result does not depend on either. Reached only when {@link Simd#VECTOR}.
 *
 * <p>Both methods are straight-line (no loops, no calls but the Vector API's and, in tanh, {@link #exp}) so that C2
 * inlines them into their callers: a FloatVector returned from a call that is not inlined is boxed.
 */
final class VectorMath {
    private VectorMath() {}

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
        IntVector ki = z.reinterpretAsInts().sub(SHIFT_BITS);
        IntVector h = ki.lanewise(VectorOperators.ASHR, 1).lanewise(VectorOperators.LSHL, 23);
        FloatVector s1 = h.add(ONE_BITS).reinterpretAsFloats();
        FloatVector s2 = ki.lanewise(VectorOperators.LSHL, 23).sub(h).add(ONE_BITS).reinterpretAsFloats();
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
