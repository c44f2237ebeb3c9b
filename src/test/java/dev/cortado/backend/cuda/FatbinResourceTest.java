package dev.cortado.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs everywhere: the build put cortado.fatbin on the class path, with PTX for compute_80 and SASS for sm_80 and
 * sm_90a, and every kernel the Java side launches is in it (the extern "C" names are plain strings in the PTX and in
 * the ELF symbol tables; the fatbin is built uncompressed).
 */
class FatbinResourceTest {
    private static final int FATBIN_MAGIC = 0xBA55ED50;

    private static byte[] fatbin() {
        byte[] image = CudaModule.readKernelsResource();
        if (image == null) {
            Assumptions.assumeFalse("1".equals(System.getenv("CORTADO_SKIP_KERNELS")),
                    "built with CORTADO_SKIP_KERNELS=1 and no nvcc: no fatbin to check");
        }
        assertNotNull(image, CudaModule.KERNELS_RESOURCE + " is missing from the built classes");
        return image;
    }

    /** (kind, arch) of every image: kind 1 = PTX, 2 = ELF (SASS); arch 80 = sm_80, 90 = sm_90(a). */
    static List<int[]> entries(byte[] image) {
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(FATBIN_MAGIC, b.getInt(0), "fatbin magic");
        int headerSize = Short.toUnsignedInt(b.getShort(6));
        long fatSize = b.getLong(8);
        assertEquals(image.length, headerSize + fatSize, "fatbin size field");
        List<int[]> out = new ArrayList<>();
        long off = headerSize;
        while (off < headerSize + fatSize) {
            int at = (int) off;
            int kind = Short.toUnsignedInt(b.getShort(at));
            int entryHeader = b.getInt(at + 4);
            long payload = b.getLong(at + 8);
            int arch = b.getInt(at + 28);
            out.add(new int[] {kind, arch});
            off += entryHeader + payload;
        }
        return out;
    }

    @Test
    void fatbinHasPtxAndSassForTheTargetArchitectures() {
        List<int[]> e = entries(fatbin());
        assertTrue(e.stream().anyMatch(x -> x[0] == 1 && x[1] == 80), "PTX for compute_80");
        assertTrue(e.stream().anyMatch(x -> x[0] == 2 && x[1] == 80), "SASS for sm_80");
        assertTrue(e.stream().anyMatch(x -> x[0] == 2 && x[1] == 90), "SASS for sm_90a");
    }

    @Test
    void everyLaunchedKernelIsInTheFatbin() {
        String text = new String(fatbin(), StandardCharsets.ISO_8859_1);
        List<String> missing = new ArrayList<>();
        for (String name : Kernels.kernelNames()) {
            boolean inPtx = text.contains(".entry " + name + "(");
            boolean inElf = text.contains("\0" + name + "\0");
            if (!inPtx || !inElf) missing.add(name + (inPtx ? "" : " (PTX)") + (inElf ? "" : " (ELF)"));
        }
        assertTrue(missing.isEmpty(), "kernels missing from cortado.fatbin: " + missing);
    }
}
