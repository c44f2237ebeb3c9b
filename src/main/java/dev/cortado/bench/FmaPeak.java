package dev.cortado.bench;

/** The fma-peak kernel of {@link KernelsBench} (Vector API): run only when {@code Simd.VECTOR} is true. */
final class FmaPeak {
    private FmaPeak() {}

    static int bits() {
        return SP.vectorBitSize();
    }

    /** Register-only FMA throughput of all worker threads at once (the ceiling GEMM is measured against). */
    static KernelsBench.Kernel kernel(int iterations) {
        int threads = dev.cortado.backend.cpu.WorkerPool.shared().threads();
        double flops = 2.0 * 16 * SP.length() * iterations * threads;
        for (int w = 0; w < 20; w++) KernelsBench.sink = fmaChains(20_000); // compiled before the timed runs
        return new KernelsBench.Kernel("fma-peak", threads + " threads x 16 chains", flops, 0, () -> {
            Thread[] ts = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                ts[t] = Thread.ofPlatform().start(() -> KernelsBench.sink = fmaChains(iterations));
            }
            for (Thread t : ts) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
    }

    private static final jdk.incubator.vector.VectorSpecies<Float> SP = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;

    /** 16 independent FMA chains on registers; returns their sum so the work is not dead code. */
    static float fmaChains(int iterations) {
        var a = jdk.incubator.vector.FloatVector.broadcast(SP, 1.0001f);
        var b = jdk.incubator.vector.FloatVector.broadcast(SP, 0.9999f);
        var c0 = jdk.incubator.vector.FloatVector.zero(SP);
        var c1 = c0; var c2 = c0; var c3 = c0; var c4 = c0; var c5 = c0; var c6 = c0; var c7 = c0;
        var c8 = c0; var c9 = c0; var c10 = c0; var c11 = c0; var c12 = c0; var c13 = c0; var c14 = c0; var c15 = c0;
        for (int i = 0; i < iterations; i++) {
            c0 = a.fma(b, c0); c1 = a.fma(b, c1); c2 = a.fma(b, c2); c3 = a.fma(b, c3);
            c4 = a.fma(b, c4); c5 = a.fma(b, c5); c6 = a.fma(b, c6); c7 = a.fma(b, c7);
            c8 = a.fma(b, c8); c9 = a.fma(b, c9); c10 = a.fma(b, c10); c11 = a.fma(b, c11);
            c12 = a.fma(b, c12); c13 = a.fma(b, c13); c14 = a.fma(b, c14); c15 = a.fma(b, c15);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .add(c12).add(c13).add(c14).add(c15).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

}
