package dev.cortado.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Vector API parts of {@link Host}: used only when {@code Simd.VECTOR} is true. */
final class HostVectors {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private HostVectors() {}

    static int bits() {
        return F.vectorBitSize();
    }

    static float sum(MemorySegment s, long off, long len) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        long step = F.vectorByteSize(), end = off + len - 4 * step;
        long i = off;
        for (; i <= end; i += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, s, i, java.nio.ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, s, i + step, java.nio.ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, s, i + 2 * step, java.nio.ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, s, i + 3 * step, java.nio.ByteOrder.LITTLE_ENDIAN));
        }
        float r = a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
        for (; i < off + len; i += 4) r += s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        return r;
    }

}
