package dev.cortado.tokenizer.pretokenizers;

import dev.cortado.tokenizer.TextPattern;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** HF ByteLevel pre-tokenizer (GPT-2 split + bytes mapped to printable characters) and its decoder. */
public final class ByteLevel implements PreTokenizer {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[324];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private final boolean addPrefixSpace, useRegex;

    public ByteLevel(boolean addPrefixSpace, boolean useRegex) {
        this.addPrefixSpace = addPrefixSpace;
        this.useRegex = useRegex;
    }

    @Override
    public void split(String text, List<String> out) {
        if (addPrefixSpace && !text.startsWith(" ")) text = " " + text;
        if (!useRegex) {
            if (!text.isEmpty()) out.add(toByteChars(text));
            return;
        }
        TextPattern.IntPairs m = new TextPattern.IntPairs();
        Gpt2Scanner.GPT2_SCANNER.findAll(text, m);
        for (int k = 0; k < m.size(); k++) out.add(toByteChars(text.substring(m.start(k), m.end(k))));
    }

    /** Maps the UTF-8 bytes of {@code s} to GPT-2's printable byte characters. */
    public static String toByteChars(String s) {
        boolean ascii = true;
        for (int i = 0; i < s.length() && ascii; i++) {
            char c = s.charAt(i);
            ascii = c >= 33 && c <= 126;
        }
        if (ascii) return s;
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        char[] cs = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) cs[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(cs);
    }

    /** ByteLevel decoder: all tokens to bytes (a token with a foreign character keeps its own UTF-8), lossy UTF-8. */
    public static List<String> decode(List<String> tokens) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (String t : tokens) {
            byte[] tb = tokenBytes(t);
            bytes.write(tb, 0, tb.length);
        }
        return List.of(bytes.toString(StandardCharsets.UTF_8));
    }

    /** The bytes a byte-level token stands for. */
    public static byte[] tokenBytes(String t) {
        byte[] out = new byte[t.length()];
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) return t.getBytes(StandardCharsets.UTF_8);
            out[i] = (byte) b;
        }
        return out;
    }
}
