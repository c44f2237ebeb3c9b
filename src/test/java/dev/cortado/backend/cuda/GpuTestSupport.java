package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.fail;

import dev.cortado.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;

/**
 * Helpers for the {@code gpu}-tagged tests: one shared context (tests skip with a message when there is no driver
 * or device), host/device conversion for f32 / f16 / bf16, and tolerance checks.
 */
final class GpuTestSupport {
    private static CudaContext shared;
    private static String problem;

    private GpuTestSupport() {}

    /** The shared context on device 0; skips the calling test when CUDA is unusable here. */
    static synchronized CudaContext context() {
        if (shared == null && problem == null) {
            String reason = CudaDriver.unavailableReason();
            if (reason != null) {
                problem = reason;
            } else {
                try {
                    shared = CudaContext.open(0);
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> shared.close()));
                } catch (CudaException e) {
                    problem = e.getMessage();
                }
            }
        }
        Assumptions.assumeTrue(shared != null, () -> "GPU test skipped: " + problem);
        return shared;
    }

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** bf16 bits of a float, round to nearest even (as torch). */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) 0x7fc0;
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    static float fromBf16(short s) {
        return Float.intBitsToFloat((s & 0xffff) << 16);
    }

    /** The value the storage type holds for {@code f}. */
    static float round(DType t, float f) {
        return switch (t) {
            case F32 -> f;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(f));
            case BF16 -> fromBf16(toBf16(f));
            default -> throw new IllegalArgumentException(t.toString());
        };
    }

    static float[] round(DType t, float[] v) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) r[i] = round(t, v[i]);
        return r;
    }

    /** Uniform values in [-scale, scale), already rounded to {@code t}. */
    static float[] random(Random rnd, DType t, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = round(t, (rnd.nextFloat() * 2 - 1) * scale);
        return v;
    }

    /** Device allocations made by one test, freed together. */
    static final class Scope implements AutoCloseable {
        final CudaContext ctx;
        private final List<DeviceMemory> owned = new ArrayList<>();

        Scope(CudaContext ctx) {
            this.ctx = ctx;
        }

        DeviceMemory alloc(long bytes) {
            DeviceMemory m = ctx.allocate(Math.max(bytes, 1));
            owned.add(m);
            return m;
        }

        /** Zero-filled device memory. */
        long zeros(long bytes) {
            DeviceMemory m = alloc(bytes);
            m.zero();
            return m.address();
        }

        long upload(DType t, float[] v) {
            DeviceMemory m = alloc((long) v.length * t.byteSize());
            try (Arena a = Arena.ofConfined()) {
                MemorySegment host = a.allocate(Math.max(1, (long) v.length * t.byteSize()), 16);
                for (int i = 0; i < v.length; i++) {
                    switch (t) {
                        case F32 -> host.setAtIndex(F32, i, v[i]);
                        case F16 -> host.setAtIndex(I16, i, Float.floatToFloat16(v[i]));
                        case BF16 -> host.setAtIndex(I16, i, toBf16(v[i]));
                        default -> throw new IllegalArgumentException(t.toString());
                    }
                }
                if (v.length > 0) m.copyFrom(host);
            }
            return m.address();
        }

        long upload(int[] v) {
            DeviceMemory m = alloc(4L * v.length);
            if (v.length > 0) m.copyFrom(MemorySegment.ofArray(v));
            return m.address();
        }

        long upload(long[] v) {
            DeviceMemory m = alloc(8L * v.length);
            if (v.length > 0) m.copyFrom(MemorySegment.ofArray(v));
            return m.address();
        }

        long upload(byte[] v) {
            DeviceMemory m = alloc(v.length);
            if (v.length > 0) m.copyFrom(MemorySegment.ofArray(v));
            return m.address();
        }

        float[] download(DType t, long address, int n) {
            ctx.synchronize();
            float[] out = new float[n];
            try (Arena a = Arena.ofConfined()) {
                MemorySegment host = a.allocate(Math.max(1, (long) n * t.byteSize()), 16);
                ctx.driver().memcpyDtoH(host, address, (long) n * t.byteSize());
                for (int i = 0; i < n; i++) {
                    out[i] = switch (t) {
                        case F32 -> host.getAtIndex(F32, i);
                        case F16 -> Float.float16ToFloat(host.getAtIndex(I16, i));
                        case BF16 -> fromBf16(host.getAtIndex(I16, i));
                        default -> throw new IllegalArgumentException(t.toString());
                    };
                }
            }
            return out;
        }

        int[] downloadInts(long address, int n) {
            ctx.synchronize();
            int[] out = new int[n];
            ctx.driver().memcpyDtoH(MemorySegment.ofArray(out), address, 4L * n);
            return out;
        }

        @Override
        public void close() {
            ctx.synchronize();
            for (DeviceMemory m : owned) m.close();
            owned.clear();
        }
    }

    /** Relative tolerance of the storage type: fp32 1e-5, fp16 1e-2, bf16 2e-2 (8 mantissa bits). */
    static double tol(DType t) {
        return switch (t) {
            case F32 -> 1e-5;
            case F16 -> 1e-2;
            case BF16 -> 2e-2;
            default -> throw new IllegalArgumentException(t.toString());
        };
    }

    /** |got - want| <= tol * max(1, |want|) element-wise. */
    static void assertClose(String what, DType t, double[] want, float[] got) {
        assertClose(what, tol(t), want, got, null);
    }

    /**
     * |got - want| <= tol * max(1, scale[i]) (scale null: |want|). For reductions, scale is the L1 mass of the
     * summed terms, the natural bound of accumulated rounding.
     */
    static void assertClose(String what, double tol, double[] want, float[] got, double[] scale) {
        if (want.length != got.length) fail(what + ": length " + got.length + " != " + want.length);
        int bad = 0;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < want.length; i++) {
            double s = scale == null ? Math.abs(want[i]) : scale[i];
            double lim = tol * Math.max(1.0, s);
            boolean ok = Double.isInfinite(want[i]) ? want[i] == got[i] : Math.abs(got[i] - want[i]) <= lim;
            if (!ok) {
                if (bad < 5) sb.append(String.format(" [%d] got %s want %s (tol %.3g)", i, got[i], want[i], lim));
                bad++;
            }
        }
        if (bad > 0) fail(what + ": " + bad + " of " + want.length + " outside tolerance:" + sb);
    }

    static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    static float[] roundAll(DType t, double[] v) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) r[i] = round(t, (float) v[i]);
        return r;
    }
}
