package dev.cortado.audio;

import dev.cortado.CortadoException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import org.jflac.FLACDecoder;
import org.jflac.PCMProcessor;
import org.jflac.metadata.StreamInfo;
import org.jflac.util.ByteData;

/**
 * FLAC (8/16/24-bit, any channels, any rate) through jFLAC (org.jflac:jflac-codec, a pure-Java port of libFLAC's
 * decoder): the decoder's interleaved little-endian PCM is scaled and mixed to mono exactly as a WAV of the same
 * samples (so a FLAC and its WAV give bit-identical audio). A stream with bad frames, or fewer samples than its
 * header declares, is refused as truncated or corrupt. jFLAC (last release 1.5.2, 2017, LGPL-2.1) prints a debug line
 * to standard output when it meets an escape-coded residual partition (corrupt input, or rare encoders): the decode
 * runs under {@link MutedStdout}, which drops that thread's writes to {@code System.out} only.
 */
final class FlacReader {
    private FlacReader() {}

    static boolean isFlac(byte[] b) {
        return b.length >= 4 && b[0] == 'f' && b[1] == 'L' && b[2] == 'a' && b[3] == 'C';
    }

    /** {@code head}: the first bytes of the file, already read ({@code bytes} is the rest), or null ({@code bytes} is the whole file). */
    static Audio parse(byte[] bytes, String name, byte[] head) {
        InputStream in = head == null ? new ByteArrayInputStream(bytes)
                : new SequenceInputStream(new ByteArrayInputStream(head), new ByteArrayInputStream(bytes));
        FLACDecoder d = new FLACDecoder(in);
        ByteArrayOutputStream pcm = new ByteArrayOutputStream();
        StreamInfo[] info = new StreamInfo[1];
        d.addPCMProcessor(new PCMProcessor() {
            @Override public void processStreamInfo(StreamInfo s) { info[0] = s; }
            @Override public void processPCM(ByteData b) { pcm.write(b.getData(), 0, b.getLen()); }
        });
        try {
            MutedStdout.run(() -> {
                d.decode();
                return null;
            });
        } catch (IOException | RuntimeException e) {
            String why = e.getMessage() == null || e instanceof java.io.EOFException ? "the stream ends early" : e.getMessage();
            throw new CortadoException(name + ": corrupt or truncated FLAC (" + why + "); re-export the file");
        }
        StreamInfo s = info[0];
        if (s == null) throw new CortadoException(name + ": truncated FLAC (no STREAMINFO block); re-export the file");
        int bits = s.getBitsPerSample(), channels = s.getChannels(), rate = s.getSampleRate();
        if (bits != 8 && bits != 16 && bits != 24)
            throw new CortadoException(name + ": unsupported FLAC of " + bits + "-bit samples; Cortado reads 8/16/24-bit FLAC, "
                    + "convert it with e.g. ffmpeg -i IN -ar 16000 -ac 1 -c:a pcm_s16le out.wav");
        long frames = pcm.size() / ((long) channels * (bits / 8));
        if (d.getBadFrames() > 0 || (s.getTotalSamples() > 0 && frames != s.getTotalSamples()))
            throw new CortadoException(name + ": truncated or corrupt FLAC (" + frames + " of " + s.getTotalSamples()
                    + " samples decoded, " + d.getBadFrames() + " bad frames); re-export the file");
        return WavReader.pcm(pcm.toByteArray(), channels, rate, bits, name);
    }
}
