package dev.cortado.cli;

import dev.cortado.CortadoException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads CLI inputs: TEXT arguments, else one input per stdin line, strictly decoded as UTF-8. */
final class Inputs {
    private Inputs() {}

    static List<String> argsOrStdin(List<String> args, InputStream stdin) {
        if (args != null && !args.isEmpty()) return args;
        return lines(stdin, "standard input");
    }

    static List<String> lines(InputStream in, String what) {
        byte[] bytes;
        try {
            ByteArrayOutputStream bo = new ByteArrayOutputStream();
            in.transferTo(bo);
            bytes = bo.toByteArray();
        } catch (IOException e) {
            throw new CortadoException("cannot read " + what + ": " + e.getMessage(), e);
        }
        String text = decodeUtf8(bytes, what);
        List<String> out = new ArrayList<>();
        for (String line : text.split("\r?\n", -1)) out.add(line);
        if (!out.isEmpty() && out.getLast().isEmpty()) out.removeLast();
        return out;
    }

    static String decodeUtf8(byte[] bytes, String what) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        CoderResult r = dec.decode(in, out, true);
        if (r.isError()) {
            int at = in.position();
            throw new CortadoException("invalid UTF-8 in " + what + " at byte " + at + " (line " + lineOf(bytes, at) + ")");
        }
        dec.flush(out);
        return out.flip().toString();
    }

    private static int lineOf(byte[] b, int at) {
        int line = 1;
        for (int i = 0; i < at && i < b.length; i++) if (b[i] == '\n') line++;
        return line;
    }
}
