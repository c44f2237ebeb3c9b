package dev.cortado.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jFLAC prints a debug line to System.out when it decodes an escape-coded residual partition; the CLI's stdout
 * must stay clean. The FLAC here is written by hand from the format specification (https://xiph.org/flac/format.html):
 * one 16-bit mono frame, a FIXED order-0 subframe whose single Rice partition is escape-coded (parameter 15, then
 * the samples verbatim in 16 bits): it must decode to exactly the samples of a WAV of the same integers, with
 * nothing on System.out, and a copy cut inside the frame must be one clear line, again with nothing on System.out.
 */
class FlacEscapeTest {
    static final int N = 192, RATE = 16000;
    @TempDir Path tmp;

    static short[] samples() {
        short[] s = new short[N];
        for (int i = 0; i < N; i++) s[i] = (short) Math.round(12000 * Math.sin(2 * Math.PI * 440 * i / RATE));
        return s;
    }

    /** MSB-first bit writer. */
    static final class Bits {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        int cur, n;

        Bits put(long v, int bits) {
            for (int i = bits - 1; i >= 0; i--) {
                cur = (cur << 1) | (int) ((v >>> i) & 1);
                if (++n == 8) {
                    out.write(cur);
                    cur = n = 0;
                }
            }
            return this;
        }

        byte[] bytes() {
            if (n > 0) put(0, 8 - n); // zero padding to the byte
            return out.toByteArray();
        }
    }

    static int crc8(byte[] b, int len) { // x^8 + x^2 + x + 1
        int c = 0;
        for (int i = 0; i < len; i++) {
            c ^= b[i] & 0xFF;
            for (int k = 0; k < 8; k++) c = (c & 0x80) != 0 ? ((c << 1) ^ 0x07) & 0xFF : (c << 1) & 0xFF;
        }
        return c;
    }

    static int crc16(byte[] b) { // x^16 + x^15 + x^2 + 1
        int c = 0;
        for (byte x : b) {
            c ^= (x & 0xFF) << 8;
            for (int k = 0; k < 8; k++) c = (c & 0x8000) != 0 ? ((c << 1) ^ 0x8005) & 0xFFFF : (c << 1) & 0xFFFF;
        }
        return c;
    }

    static byte[] flac(short[] s) {
        Bits h = new Bits();
        h.put(0x3FFE, 14).put(0, 1).put(0, 1); // sync, reserved, fixed block size
        h.put(0b0001, 4).put(0b0101, 4);         // 192 samples, 16 kHz
        h.put(0b0000, 4).put(0b100, 3).put(0, 1); // mono, 16 bits, reserved
        h.put(0, 8);                              // frame number 0 (UTF-8 coded)
        byte[] head = h.bytes();
        Bits f = new Bits();
        for (byte x : head) f.put(x & 0xFF, 8);
        f.put(crc8(head, head.length), 8);
        f.put(0, 1).put(0b001000, 6).put(0, 1);   // subframe: FIXED, order 0, no wasted bits
        f.put(0b00, 2).put(0, 4);                 // Rice (4-bit parameters), partition order 0
        f.put(0b1111, 4).put(16, 5);              // escape: the residuals verbatim, 16 bits each
        for (short v : s) f.put(v & 0xFFFF, 16);
        byte[] frame = f.bytes();
        int crc = crc16(frame);
        Bits all = new Bits();
        for (byte x : "fLaC".getBytes(StandardCharsets.US_ASCII)) all.put(x, 8);
        all.put(1, 1).put(0, 7).put(34, 24);      // last metadata block: STREAMINFO, 34 bytes
        all.put(N, 16).put(N, 16).put(0, 24).put(0, 24);
        all.put(RATE, 20).put(0, 3).put(15, 5).put(N, 36);
        for (int i = 0; i < 16; i++) all.put(0, 8); // MD5 unknown
        for (byte x : frame) all.put(x & 0xFF, 8);
        all.put(crc, 16);
        return all.bytes();
    }

    static byte[] wav(short[] s) {
        ByteBuffer b = ByteBuffer.allocate(44 + 2 * s.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + 2 * s.length).put("WAVEfmt ".getBytes(StandardCharsets.US_ASCII));
        b.putInt(16).putShort((short) 1).putShort((short) 1).putInt(RATE).putInt(2 * RATE).putShort((short) 2).putShort((short) 16);
        b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(2 * s.length);
        for (short v : s) b.putShort(v);
        return b.array();
    }

    /** Runs {@code r} with System.out captured; returns what was printed. */
    static String stdout(org.junit.jupiter.api.function.Executable r) throws Throwable {
        PrintStream saved = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            r.execute();
        } finally {
            System.setOut(saved);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void escapeCodedResidualsDecodeAndPrintNothing() throws Throwable {
        short[] s = samples();
        Path f = Files.write(tmp.resolve("escape.flac"), flac(s));
        Audio[] got = new Audio[1];
        assertEquals("", stdout(() -> got[0] = Audio.read(f)), "nothing on System.out");
        Audio want = Audio.parse(wav(s), "same.wav");
        assertEquals(RATE, got[0].sampleRate());
        assertArrayEquals(want.samples(), got[0].samples());
    }

    @Test
    void corruptEscapeCodedFlacIsOneLineAndPrintsNothing() throws Throwable {
        byte[] b = flac(samples()); // cut inside the escaped residuals (jFLAC does not check a frame's CRC-16)
        Path f = Files.write(tmp.resolve("cut.flac"), java.util.Arrays.copyOf(b, b.length - 100));
        assertEquals("", stdout(() -> {
            CortadoException e = assertThrows(CortadoException.class, () -> Audio.read(f));
            assertTrue(e.getMessage().contains("FLAC") && !e.getMessage().contains("\n"), e.getMessage());
        }), "nothing on System.out");
    }

    @Test
    void otherThreadsStillPrint() throws Throwable {
        String out = stdout(() -> {
            Thread t = Thread.ofPlatform().unstarted(() -> System.out.println("from another thread"));
            MutedStdout.run(() -> {
                t.start();
                t.join();
                System.out.println("muted");
                return null;
            });
            System.out.println("after");
        });
        assertEquals("from another thread\nafter\n", out.replace("\r\n", "\n"));
    }
}
