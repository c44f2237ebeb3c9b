package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Driver, memory, module and graph behaviour on a real device; skips without one. */
@Tag("gpu")
class CudaMemoryGpuTest {

    @Test
    void describesTheDevice() {
        CudaContext ctx = GpuTestSupport.context();
        assertTrue(ctx.computeCapability() >= 80, ctx.toString());
        assertTrue(ctx.totalMemory() > 0);
        String info = CudaInfo.describe();
        assertTrue(info.contains("CUDA driver: "), info);
        assertTrue(info.contains(ctx.name()), info);
        System.out.println(info);
    }

    @Test
    void everyKernelLoadsFromTheFatbin() {
        CudaModule m = GpuTestSupport.context().module();
        List<String> missing = new ArrayList<>();
        for (String n : Kernels.kernelNames()) if (!m.has(n)) missing.add(n);
        assertTrue(missing.isEmpty(), "not loadable: " + missing);
    }

    @Test
    void hostDeviceRoundTrip() {
        CudaContext ctx = GpuTestSupport.context();
        byte[] data = new byte[1 << 20];
        new Random(1).nextBytes(data);
        try (DeviceMemory a = ctx.allocate(data.length); DeviceMemory b = ctx.allocate(data.length)) {
            a.copyFrom(MemorySegment.ofArray(data));          // heap source
            b.copyFrom(a);                                     // device to device
            byte[] back = new byte[data.length];
            b.copyTo(MemorySegment.ofArray(back));
            assertArrayEquals(data, back);
            try (Arena arena = Arena.ofConfined()) {           // native source and target
                MemorySegment src = arena.allocate(data.length);
                MemorySegment.copy(data, 0, src, ValueLayout.JAVA_BYTE, 0, data.length);
                a.zero();
                a.copyFrom(src);
                MemorySegment dst = arena.allocate(data.length);
                a.copyTo(dst);
                assertArrayEquals(data, dst.toArray(ValueLayout.JAVA_BYTE));
            }
            b.zero();
            b.copyTo(MemorySegment.ofArray(back));
            assertArrayEquals(new byte[data.length], back);
        }
    }

    @Test
    void asyncCopiesThroughPinnedMemory() {
        CudaContext ctx = GpuTestSupport.context();
        int n = 1 << 18;
        try (CudaStream s = ctx.createStream(); PinnedBuffer in = new PinnedBuffer(ctx, 4L * n);
             PinnedBuffer out = new PinnedBuffer(ctx, 4L * n); DeviceMemory d = ctx.allocate(4L * n)) {
            for (int i = 0; i < n; i++) in.segment().setAtIndex(ValueLayout.JAVA_INT, i, i * 7 + 1);
            CudaEvent start = s.record();
            d.copyFromAsync(in.segment(), s);
            d.copyToAsync(out.segment(), s);
            CudaEvent end = s.record();
            s.synchronize();
            for (int i = 0; i < n; i++) assertEquals(i * 7 + 1, out.segment().getAtIndex(ValueLayout.JAVA_INT, i));
            assertTrue(end.elapsedMillisSince(start) >= 0f);
            start.close();
            end.close();
        }
    }

    @Test
    void thousandAllocFreeCyclesDoNotLeak() {
        CudaContext ctx = GpuTestSupport.context();
        MemoryPool pool = ctx.pool();
        pool.trim();
        ctx.synchronize();
        long freeBefore = ctx.memoryInfo()[0];
        long inUseBefore = pool.bytesInUse();
        Random r = new Random(2);
        for (int i = 0; i < 1000; i++) {
            long size = 1 + r.nextInt(8 << 20);
            try (DeviceMemory m = ctx.allocate(size)) {
                assertTrue(m.byteSize() == size && m.address() % 256 == 0);
            }
        }
        assertEquals(inUseBefore, pool.bytesInUse());
        assertTrue(pool.reuseCount() > 0, "the pool reused blocks");
        pool.trim();
        ctx.synchronize();
        long freeAfter = ctx.memoryInfo()[0];
        // The driver may keep a little for itself; anything near the 8 MiB blocks would be a leak.
        assertTrue(Math.abs(freeBefore - freeAfter) < (4L << 20),
                "free memory before " + freeBefore + " after " + freeAfter);
    }

    @Test
    void outOfMemoryIsAClearErrorAndTheContextGoesOn() {
        CudaContext ctx = GpuTestSupport.context();
        CudaException e = assertThrows(CudaException.class, () -> ctx.allocate(80L << 40));
        assertTrue(e.getMessage().startsWith("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory) while "
                + "allocating 80.0 TiB"), e.getMessage());
        assertTrue(e.isOutOfMemory());
        try (var sc = new GpuTestSupport.Scope(ctx)) {
            float[] v = {1, 2, 3, 4, 5};
            long a = sc.upload(DType.F32, v);
            ctx.kernels().add(DType.F32, a, a, a, v.length, null);
            assertArrayEquals(new float[] {2, 4, 6, 8, 10}, sc.download(DType.F32, a, v.length));
        }
    }

    @Test
    void capturedGraphReplays() {
        CudaContext ctx = GpuTestSupport.context();
        try (var sc = new GpuTestSupport.Scope(ctx); CudaStream s = ctx.createStream()) {
            float[] v = {1, -2, 3, -4};
            long x = sc.upload(DType.F32, v);
            Kernels k = ctx.kernels();
            // Launch the kernels once before capture (module and lazily loaded functions are ready then).
            k.add(DType.F32, x, x, x, 0, s);
            k.activation(DType.F32, Kernels.Activation.RELU, x, x, 0, s);
            s.synchronize();
            try (CudaGraph g = CudaGraph.capture(s, () -> {
                k.add(DType.F32, x, x, x, v.length, s);    // x *= 2
                k.activation(DType.F32, Kernels.Activation.RELU, x, x, v.length, s);
            })) {
                g.launch(s);
                g.launch(s);
                s.synchronize();
            }
            assertArrayEquals(new float[] {4, 0, 12, 0}, sc.download(DType.F32, x, v.length));
        }
    }

    @Test
    void launchErrorsNameTheKernel() {
        CudaContext ctx = GpuTestSupport.context();
        CudaException e = assertThrows(CudaException.class, () -> ctx.module().function("no_such_kernel"));
        assertTrue(e.getMessage().contains("cuModuleGetFunction failed: CUDA_ERROR_NOT_FOUND"), e.getMessage());
        assertTrue(e.getMessage().contains("no_such_kernel"), e.getMessage());
    }
}
