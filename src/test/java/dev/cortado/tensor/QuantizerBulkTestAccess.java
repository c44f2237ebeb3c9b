package dev.cortado.tensor;

import java.util.Random;

/** Test-only: {@link QuantizerBulkTest}'s structured random weights for tests in other packages. */
public final class QuantizerBulkTestAccess {
    private QuantizerBulkTestAccess() {}

    public static Tensor random(Random rnd, DType dt, int d0, int d1) {
        return QuantizerBulkTest.random(rnd, dt, d0, d1);
    }
}
