package dev.cortado.audio;

import dev.cortado.CortadoException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * RIFF/WAVE reader: PCM (format 1) 8-bit unsigned, 16/24/32-bit signed; IEEE float (format 3) 32/64-bit;
 * WAVE_FORMAT_EXTENSIBLE with a PCM or float sub-format. Channels are averaged to mono (as librosa's
 * {@code to_mono}); integers are scaled as soundfile does (16-bit: / 32768).
 */
public final class WavReader {
    private WavReader() {}

    private static final String CONVERT = "convert it with e.g. ffmpeg -i IN -ar 16000 -ac 1 -c:a pcm_s16le out.wav";

    public static Audio read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CortadoException("audio file not found: " + file);
        } catch (IOException e) {
            throw new CortadoException("cannot read audio file " + file + ": " + e.getMessage(), e);
        }
        return parse(bytes, file.toString());
    }

    /** Parses WAV bytes; {@code name} appears in error messages. */
    public static Audio parse(byte[] bytes, String name) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 12 || !tag(bytes, 0, "RIFF") || !tag(bytes, 8, "WAVE")) {
            throw new CortadoException(name + " is not a WAV file (no RIFF/WAVE header); " + CONVERT);
        }
        int format = -1, channels = 0, rate = 0, bits = 0, blockAlign = 0;
        int pos = 12;
        while (pos + 8 <= bytes.length) {
            String id = new String(bytes, pos, 4, java.nio.charset.StandardCharsets.US_ASCII);
            long size = b.getInt(pos + 4) & 0xffffffffL;
            int body = pos + 8;
            if (id.equals("fmt ")) {
                if (size < 16 || body + 16 > bytes.length) throw new CortadoException(name + ": truncated WAV (short fmt chunk); " + CONVERT);
                format = b.getShort(body) & 0xffff;
                channels = b.getShort(body + 2) & 0xffff;
                rate = b.getInt(body + 4);
                blockAlign = b.getShort(body + 12) & 0xffff;
                bits = b.getShort(body + 14) & 0xffff;
                if (format == 0xFFFE) {
                    if (size < 40 || body + 26 > bytes.length) throw new CortadoException(name + ": truncated WAV (short extensible fmt chunk); " + CONVERT);
                    format = b.getShort(body + 24) & 0xffff; // sub-format GUID starts with the format code
                }
            } else if (id.equals("data")) {
                if (format < 0) throw new CortadoException(name + ": WAV has no fmt chunk before its data; " + CONVERT);
                long avail = bytes.length - body;
                if (size == 0xffffffffL || (size == 0 && avail > 0)) size = avail; // streaming writers leave the size unset
                if (size > avail) {
                    throw new CortadoException(name + ": truncated WAV (data chunk declares " + size + " bytes, only " + avail
                            + " present); re-export the file");
                }
                return decode(b, body, (int) size, format, channels, rate, bits, blockAlign, name);
            }
            pos = (int) Math.min((long) body + size + (size & 1), bytes.length);
        }
        throw new CortadoException(name + ": truncated WAV (no data chunk); re-export the file");
    }

    /** Interleaved little-endian PCM (8-bit unsigned, 16/24/32-bit signed) as WAV holds it, mixed to mono. */
    static Audio pcm(byte[] bytes, int channels, int rate, int bits, String name) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        return decode(b, 0, bytes.length, 1, channels, rate, bits, channels * (bits / 8), name);
    }

    private static Audio decode(ByteBuffer b, int off, int size, int format, int channels, int rate, int bits,
                                int blockAlign, String name) {
        boolean pcm = format == 1, flt = format == 3;
        boolean ok = (pcm && (bits == 8 || bits == 16 || bits == 24 || bits == 32)) || (flt && (bits == 32 || bits == 64));
        if (!ok) {
            String what = pcm || flt ? (pcm ? "PCM" : "float") + " " + bits + "-bit" : "format code " + format + " (" + formatName(format) + ")";
            throw new CortadoException(name + ": unsupported WAV encoding " + what
                    + "; Cortado reads PCM 8/16/24/32-bit and float 32/64-bit, " + CONVERT);
        }
        if (channels < 1 || rate <= 0) throw new CortadoException(name + ": WAV header has " + channels + " channels at " + rate + " Hz; " + CONVERT);
        int width = bits / 8;
        int frame = Math.max(blockAlign, width * channels);
        int frames = size / frame;
        float[] out = new float[frames];
        for (int i = 0; i < frames; i++) {
            double sum = 0;
            int p = off + i * frame;
            for (int c = 0; c < channels; c++, p += width) sum += sample(b, p, bits, flt);
            out[i] = (float) (sum / channels);
        }
        return new Audio(out, rate);
    }

    private static double sample(ByteBuffer b, int p, int bits, boolean flt) {
        if (flt) return bits == 32 ? b.getFloat(p) : b.getDouble(p);
        return switch (bits) {
            case 8 -> ((b.get(p) & 0xff) - 128) / 128.0;
            case 16 -> b.getShort(p) / 32768.0;
            case 24 -> ((b.get(p) & 0xff) | (b.get(p + 1) & 0xff) << 8 | b.get(p + 2) << 16) / 8388608.0;
            default -> b.getInt(p) / 2147483648.0;
        };
    }

    private static String formatName(int f) {
        return switch (f) {
            case 2 -> "MS ADPCM";
            case 6 -> "A-law";
            case 7 -> "mu-law";
            case 0x11 -> "IMA ADPCM";
            case 0x55 -> "MP3";
            default -> "compressed";
        };
    }

    private static boolean tag(byte[] a, int off, String t) {
        for (int i = 0; i < 4; i++) if (a[off + i] != t.charAt(i)) return false;
        return true;
    }
}
