package dev.cortado.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cortado.CortadoException;
import dev.cortado.testing.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damaged inputs give one clear CortadoException naming the file, never another exception type or a crash. */
class CorruptOnnxTest {
    @TempDir
    Path dir;

    private byte[] stories() throws Exception {
        return Files.readAllBytes(Shared.require(Stories260kOnnxTest.ONNX));
    }

    @Test
    void truncatedAtHalfNamesTheFileAndTheProblem() throws Exception {
        byte[] full = stories();
        Path cut = Files.write(dir.resolve("half.onnx"), Arrays.copyOf(full, full.length / 2));
        var e = assertThrows(CortadoException.class, () -> OnnxModel.open(cut));
        assertTrue(e.getMessage().startsWith("corrupt ONNX file " + cut + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("runs past end of file"), e.getMessage());
        assertTrue(e.getMessage().matches(".* at offset \\d+$"), e.getMessage());
    }

    @Test
    void everyTruncationIsRejectedCleanly() throws Exception {
        byte[] full = stories();
        Random rnd = new Random(7);
        for (int i = 0; i < 40; i++) {
            int len = 1 + rnd.nextInt(full.length - 1);
            Path cut = Files.write(dir.resolve("cut" + i + ".onnx"), Arrays.copyOf(full, len));
            CortadoException e = assertThrows(CortadoException.class, () -> OnnxModel.open(cut), "length " + len);
            assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
        }
    }

    @Test
    void bitFlippedCopiesParseOrFailCleanly() throws Exception {
        byte[] full = stories();
        Random rnd = new Random(20240607);
        int parsed = 0, rejected = 0;
        for (int trial = 0; trial < 300; trial++) {
            byte[] copy = full.clone();
            int flips = 1 + rnd.nextInt(4);
            StringBuilder where = new StringBuilder();
            for (int f = 0; f < flips; f++) {
                // half of the flips land in the first 64 KiB: protobuf writes GraphProto.node (field 1) before the
                // initializers (field 5), so that is where the structure is; the rest is mostly weights
                int at = rnd.nextInt(rnd.nextBoolean() ? copy.length : Math.min(copy.length, 64 * 1024));
                copy[at] ^= (byte) (1 << rnd.nextInt(8));
                where.append(at).append(' ');
            }
            Path file = Files.write(dir.resolve("flip.onnx"), copy);
            try (OnnxModel m = OnnxModel.open(file)) {
                m.graph().nodes().forEach(n -> n.attributes().size());
                parsed++;
            } catch (CortadoException e) {
                assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
                assertFalse(e.getCause() != null && !(e.getCause() instanceof java.io.IOException),
                        "reader bug caught by the safety net at flips " + where + ": " + e.getCause());
                rejected++;
            } catch (Throwable t) {
                fail("flips at " + where + " gave " + t, t);
            }
        }
        assertEquals(300, parsed + rejected);
        assertTrue(rejected > 10, "only " + rejected + " of 300 damaged copies were rejected");
    }

    @Test
    void randomGarbageIsRejectedCleanly() throws Exception {
        Random rnd = new Random(99);
        for (int i = 0; i < 100; i++) {
            byte[] junk = new byte[1 + rnd.nextInt(4096)];
            rnd.nextBytes(junk);
            Path file = Files.write(dir.resolve("junk.onnx"), junk);
            try (OnnxModel m = OnnxModel.open(file)) {
                m.graph();
            } catch (CortadoException e) {
                assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
                assertTrue(e.getCause() == null, "safety net hit: " + e.getCause());
            }
        }
    }

    @Test
    void emptyFile() throws Exception {
        Path file = Files.write(dir.resolve("empty.onnx"), new byte[0]);
        var e = assertThrows(CortadoException.class, () -> OnnxModel.open(file));
        assertEquals("ONNX file " + file + " is empty", e.getMessage());
    }

    @Test
    void missingFileAndFolder() {
        Path file = dir.resolve("absent.onnx");
        var e = assertThrows(CortadoException.class, () -> OnnxModel.open(file));
        assertEquals("ONNX file not found: " + file, e.getMessage());
        e = assertThrows(CortadoException.class, () -> OnnxModel.open(dir));
        assertTrue(e.getMessage().contains("is a folder"), e.getMessage());
    }

    @Test
    void textFileIsNotAModel() throws Exception {
        Path file = Files.writeString(dir.resolve("config.onnx"), "{\"model_type\": \"llama\"}\n");
        var e = assertThrows(CortadoException.class, () -> OnnxModel.open(file));
        assertTrue(e.getMessage().startsWith("corrupt ONNX file " + file), e.getMessage());
    }
}
