package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Runs everywhere (no GPU needed): the no-driver path and the pure-Java parts of the CUDA backend. */
class CudaDriverTest {

    @Test
    void missingLibraryGivesTheClearNoDriverMessage() {
        CudaException e = assertThrows(CudaException.class, () -> CudaDriver.load("libcuda-cortado-missing.so.1"));
        String m = e.getMessage();
        assertTrue(m.startsWith("no CUDA driver found: libcuda-cortado-missing.so.1 could not be loaded ("), m);
        assertTrue(m.endsWith("); the CUDA device needs an NVIDIA GPU and its driver; use --device cpu (Java: Device.cpu())"), m);
        assertTrue(e instanceof CortadoException, "a CudaException is a CortadoException (the CLI prints it)");
        assertEquals(-1, e.code());
    }

    @Test
    void withoutADriverEveryEntryPointReportsIt() {
        Assumptions.assumeFalse(CudaDriver.isAvailable(),
                "a CUDA driver is present here; the no-driver path is covered by the missing-library test");
        String expected = "no CUDA driver found: libcuda.so.1 could not be loaded (";
        CudaException first = assertThrows(CudaException.class, CudaDriver::get);
        CudaException second = assertThrows(CudaException.class, CudaDriver::get);
        assertTrue(first.getMessage().startsWith(expected), first.getMessage());
        assertEquals(first.getMessage(), second.getMessage(), "the failure is cached and reported the same way");
        assertTrue(first.getMessage().endsWith("; use --device cpu (Java: Device.cpu())"));
        CudaException ctx = assertThrows(CudaException.class, () -> CudaContext.open(0));
        assertEquals(first.getMessage(), ctx.getMessage());
        assertEquals(first.getMessage(), CudaDriver.unavailableReason());
    }

    @Test
    void infoNeverThrows() {
        String info = CudaInfo.describe();
        assertTrue(info.contains("Kernels: "), info);
        assertTrue(info.contains("GEMM: "), info);
        if (!CudaDriver.isAvailable()) assertTrue(info.startsWith("CUDA: not available: no CUDA driver found"), info);
        assertFalse(info.isBlank());
    }

    @Test
    void errorMessagesNameTheCallAndTheResult() {
        CudaException e = new CudaException("cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory",
                "allocating " + CudaDriver.formatBytes(80L << 30));
        assertEquals("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory) while allocating 80.0 GiB",
                e.getMessage());
        assertTrue(e.isOutOfMemory());
        assertEquals("cuMemAlloc_v2", e.call());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
    }

    @Test
    void formatsBytesAndVersions() {
        assertEquals("512 B", CudaDriver.formatBytes(512));
        assertEquals("1.5 MiB", CudaDriver.formatBytes(3L << 19));
        assertEquals("80.0 TiB", CudaDriver.formatBytes(80L << 40));
        assertEquals("13.0", CudaDriver.formatVersion(13000));
        assertEquals("12.8", CudaDriver.formatVersion(12080));
    }

    @Test
    void poolSizeClassesWasteAtMostAQuarter() {
        assertEquals(256, MemoryPool.sizeClass(0));
        assertEquals(256, MemoryPool.sizeClass(256));
        assertEquals(512, MemoryPool.sizeClass(257));
        assertEquals(1L << 20, MemoryPool.sizeClass(1L << 20));
        assertEquals(5L << 18, MemoryPool.sizeClass((1L << 20) + 1)); // 1.25 MiB
        assertEquals(80L << 40, MemoryPool.sizeClass(80L << 40));
        for (long n = 1; n < (1L << 40); n = n * 3 + 7) {
            long c = MemoryPool.sizeClass(n);
            assertTrue(c >= n, "class " + c + " < request " + n);
            assertTrue(n <= 256 || c <= n * 2, "power-of-two region: " + n + " -> " + c);
            assertTrue(n <= (1L << 20) || c <= n + n / 4 + 1, "waste over 25%: " + n + " -> " + c);
            assertEquals(c, MemoryPool.sizeClass(c), "a class maps to itself");
        }
    }

    @Test
    void cublasLtSearchCoversTheDocumentedPlaces() {
        var dirs = CuBlasLt.searchDirectories();
        assertTrue(dirs.contains(Path.of("/usr/local/cuda/lib64")), dirs.toString());
        String d = CuBlasLt.describe();
        assertTrue(d.startsWith("cuBLASLt (") || d.equals("not found, using Cortado's own GEMM kernel"), d);
    }

    @Test
    void kernelNamesAreUniqueAndTyped() {
        var names = Kernels.kernelNames();
        assertEquals(names.size(), new java.util.HashSet<>(names).size());
        assertTrue(names.contains("rmsnorm_f16"));
        assertTrue(names.contains("attn_decode_bf16"));
        assertTrue(names.contains("gemm_tc_f16"));
    }
}
