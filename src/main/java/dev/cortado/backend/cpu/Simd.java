package dev.cortado.backend.cpu;

/**
 * Whether the Java Vector API ({@code jdk.incubator.vector}) is in the boot layer. The CPU kernels use it when it is;
 * otherwise they run scalar code (same results within float rounding, several times slower) and {@link #warnOnce()}
 * prints one line naming the flag. Code that touches a {@code jdk.incubator.vector} type must be reached only when
 * {@link #VECTOR} is true (keep such code in classes of its own, so that they are never loaded otherwise).
 */
public final class Simd {
    /** True when {@code --add-modules jdk.incubator.vector} was given (or the module is otherwise resolved). */
    public static final boolean VECTOR = !Boolean.getBoolean("cortado.scalar")
            && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    private static volatile boolean warned;

    private Simd() {}

    /** Prints the scalar-fallback warning once per JVM (nothing when the Vector API is present). */
    public static void warnOnce() {
        if (VECTOR || warned) return;
        synchronized (Simd.class) {
            if (warned) return;
            warned = true;
        }
        System.err.println("cortado: WARNING: the Java Vector API is not enabled, so the CPU backend runs scalar code "
                + "(several times slower); add --add-modules jdk.incubator.vector to the java command for full speed");
    }
}
